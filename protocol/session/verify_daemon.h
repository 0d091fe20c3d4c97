// `ferry verify` with one side a ferry daemon module: `ferry verify SRC
// ferry://[user@]host[:port]/module/path` (or host::module/path), or the
// module as SRC. Connects and authenticates as the sync does
// (daemon_session.h: the endpoint's user@ or $USER, the secret of
// --password-file or $FERRY_PASSWORD), asks for the verify-side role
// (SessionRequest role 2, PROTOCOL.md section 11), and compares with the
// same routine as the ssh case (verify_remote.h's RunVerifySession): the
// daemon walks and hashes the module path, confined to the module like a
// sync (resolved beneath the module root's fd, no symlink followed, no
// `..`). It changes nothing, so a read-only module allows it.
//
// Errors: kInvalidArgument (a bad target); kPermission for what the daemon
// refuses before comparing (authentication, a path outside the module or
// through a symlink: rsync's exit 5, as the sync's); kIo for the connection
// (exit 10); kCorrupt for the protocol stream. Differences and per-path
// errors are the outcome's, as in a local verify.
//
// Thread safety: one call per session.
#pragma once

#include "engine/base/status.h"
#include "engine/verify/verify.h"
#include "protocol/session/daemon_session.h"
#include "protocol/session/verify_remote.h"

namespace ferry::protocol {

// Exactly one of req.src and req.dst is a daemon target (IsDaemonTarget).
Result<RemoteVerifyResult> RunDaemonVerify(const VerifyRequest& req, const VerifyOptions& opt,
                                           const RemoteOptions& ro, const DaemonAuth& auth,
                                           VerifyEvents& events);

}  // namespace ferry::protocol
