// Verifier: the check a cutover runs after its final pass and before the
// switch hooks: every file of every path set compared by content hash and
// metadata. Any difference stops the cutover before the switch.
//
// The runner calls it through this function type (RunOptions::verifier) so
// the implementation can change without touching the runner. The default,
// CutoverVerifier, dispatches on the endpoints: VerifyTrees for local ends,
// RemoteVerifier for a transfer with an ssh or daemon end.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/plan/compile.h"

namespace ferry::plan {

struct VerifyDifference {
  std::string path;  // relative to the path set's destination
  std::string what;  // rsync itemize string ("cf........." etc.) or a message
};

struct VerifyResult {
  std::vector<VerifyDifference> differences;  // empty: identical
  uint64_t files = 0;                          // entries compared
  uint64_t bytes = 0;
};

// Compares t.src_path with t.dst_path (local endpoints). A Status when the
// comparison could not be done at all.
using Verifier = std::function<Result<VerifyResult>(const Transfer& t)>;

// engine/verify's VerifyTrees on two local ends, after the path set's filter
// (applied to both sides): every file's content by XXH3-128, permissions,
// owner, group, mtime (ns), ACLs, xattrs, symlink targets, hard-link
// structure, and entries only one side has; an unreadable path is a
// difference too. A transfer whose owners are mapped (t.ids) has SRC's
// owner and group mapped before they are compared (VerifyOptions::id_map),
// as the sync that landed them did. A transfer with a remote end goes to
// RemoteVerifier.
Result<VerifyResult> TreeVerifier(const Transfer& t);

// The same comparison with one remote end: for an ssh end,
// protocol::RunRemoteVerify starts `RSH [user@]host REMOTE_FERRY serve
// --stdio --verify-side PATH` through t.rsh / t.remote_ferry; for a daemon
// end, protocol::RunDaemonVerify connects and authenticates as the leg's
// sync does (DaemonAuthFor) and the daemon is the verify side, confined to
// its module. Both compare with the routine of a local verify
// (VerifySides). Owner maps (t.ids) with a remote source match the names
// the remote side sends with its listing, as the sync's receiver does. Two
// remote ends are kUnsupported: the cutover stops before its switch hooks
// rather than switch unverified.
Result<VerifyResult> RemoteVerifier(const Transfer& t);

// The default verifier of a cutover: TreeVerifier for local ends,
// RemoteVerifier otherwise.
Result<VerifyResult> CutoverVerifier(const Transfer& t);

}  // namespace ferry::plan
