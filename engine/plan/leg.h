// RunLeg: one sync pass of a plan transfer. Local ends run the engine
// in-process (RunLocalSync); a transfer with one ssh end runs ferry's remote
// sync (protocol::RunRemoteSync) over the plan's remote shell, starting
// `RSH [user@]host REMOTE_FERRY serve --stdio ...` on the ssh end; one with
// a daemon end (ferry://[user@]host[:port]/module/path) connects to the
// daemon (protocol::RunDaemonSync) as the endpoint's user@ (else $USER) with
// the secret of its password_file (else $FERRY_PASSWORD). Nothing shells
// out to the ferry CLI.
//
// Filter rules, owner maps (bound by the receiver against its own names,
// protocol/session/sync_rules.h) and dry runs travel in the session's
// options. What cannot run is refused, never dropped: two remote ends get
// kUnsupported naming the leg (`plan check` reports them ahead, CompilePlan's
// CheckRemoteLeg). A refused pass changes nothing.
//
// Resumption: both ways land each file under a temporary name and rename it
// when complete; a pass cut off (the runner killed) leaves the finished files
// in place on the receiving end, local or remote, and the next pass's quick
// check (size + mtime) skips them. Both ways fire OnPlanned with the pass's
// totals once the receiver compared the list (a push learns them from the
// remote receiver), so the runner stores them before the pass can be cut.
//
// Thread safety: one call per transfer at a time; events are serialised.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/base/status.h"
#include "engine/plan/compile.h"
#include "engine/transfer/report.h"
#include "engine/tree/filter.h"
#include "protocol/session/daemon_session.h"

namespace ferry::plan {

struct LegOptions {
  bool del = false;       // --delete
  bool dry_run = false;   // --dry-run (itemized changes arrive as events)
  bool checksum = false;  // -c: compare content, not size+mtime
  std::shared_ptr<const FilterList> filter;  // may be null
  std::shared_ptr<const IdMapping> ids;      // null: ids kept (non-null: mapped)
  std::string rsh = "ssh";                   // the plan's remote shell
  std::string remote_ferry = "ferry";        // the ferry command on the ssh end
};

struct LegOutcome {
  double seconds = 0;
  bool partial = false;  // some paths failed (reported through the events)
};

// How the runner authenticates to a daemon endpoint (its syncs and its
// cutover's verification): the user is the endpoint's user@, else
// $USER/$LOGNAME, else this uid's name; the secret the first line of its
// password_file (refused if others can read it), else $FERRY_PASSWORD.
// Errors name the endpoint: an unreadable password_file, no secret at all.
Result<protocol::DaemonAuth> DaemonAuthFor(const Endpoint& e);

// True when one end is reached over the remote shell or a daemon.
bool IsRemoteLeg(const Transfer& t);

// Why RunLeg would refuse this transfer with these options; empty when it
// can run. The text names the field ("filter", "usermap/groupmap", ...).
std::string RemoteLegRefusal(const Transfer& t, const LegOptions& o);

// Runs one pass. A Status when the pass could not run at all (refused,
// remote shell failed, session broken); per-path errors arrive as events.
Result<LegOutcome> RunLeg(const Transfer& t, const LegOptions& o, SyncStats& stats,
                          SyncEvents& events);

// The local tree that holds what the destination holds after a pass: the
// destination when it is local; for a push to an ssh end, the source (what
// the pass sent). nullopt when neither end is local.
std::optional<std::string> LocalMirrorOfDestination(const Transfer& t);

}  // namespace ferry::plan
