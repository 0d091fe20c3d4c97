// The client's half of `ferry verify` with one remote side: `ferry verify
// SRC [user@]host:DST` or `ferry verify [user@]host:SRC DST`. Starts `ferry
// serve --stdio --verify-side PATH` through the remote shell (client.h's
// RemoteCommand: -e/--rsh, --remote-ferry, -z), sends VerifyOpen for the
// root the trailing-slash rule names, and compares with the same routine as
// a local verify (VerifySides), the remote side being a SideDir over the
// server's stream (VerifyListing, VerifyHashes, Error; PROTOCOL.md section
// 12). The server walks and hashes its tree in parallel while this side
// hashes its own: a comparison that needs a remote listing or hash waits
// for it. Differences, output and exit codes are those of a local verify.
//
// Errors: the Status is what keeps anything from being compared (the remote
// shell or handshake failed, a root missing or not a directory, the stream
// broke: kIo/kCorrupt with the cause); per-path errors of either side go to
// events.OnError and count in the outcome.
// Memory: the remote tree's listings and hashes as they arrive (about 150
// bytes per entry plus names and xattrs), kept for the session.
//
// Thread safety: one call per session.
#pragma once

#include <functional>
#include <string>

#include "engine/base/status.h"
#include "engine/verify/verify.h"
#include "protocol/session/client.h"

namespace ferry::protocol {

struct RemoteVerifyResult {
  VerifyOutcome outcome;
  uint64_t bytes_sent = 0;  // on the wire, as this side counts them
  uint64_t bytes_received = 0;
};

// Exactly one of req.src and req.dst is remote (ParseRemote).
//
// Owner maps (opt.id_map) with a remote SRC: the session is not
// numeric_ids, so the remote side's listings carry each entry's user and
// group names, and SRC's owners are mapped by id and remote name to the
// local id the sync's receiver would have given (an id no rule matches
// stays numeric, as in the sync) before they are compared with DST's.
Result<RemoteVerifyResult> RunRemoteVerify(const VerifyRequest& req, const VerifyOptions& opt,
                                           const RemoteOptions& ro, VerifyEvents& events);

// How the verify side is reached: started through the remote shell
// (StartRemote) or over a daemon connection (verify_daemon.h), for the
// remote `spec` (its path is "." when it was empty) with the session
// options this side proposes. Errors: the transport's and the handshake's.
using VerifyConnect =
    std::function<Result<RemoteSession>(const RemoteSpec& spec, const SessionOptions& options)>;

// The comparison once the transport is chosen: `spec` is the remote side
// (SRC when remote_src, else DST) as parsed from req; the rest as
// RunRemoteVerify. outcome.seconds counts from this call.
Result<RemoteVerifyResult> RunVerifySession(const VerifyRequest& req, const VerifyOptions& opt,
                                            const RemoteOptions& ro, bool remote_src,
                                            RemoteSpec spec, const VerifyConnect& connect,
                                            VerifyEvents& events);

}  // namespace ferry::protocol
