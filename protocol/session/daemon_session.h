// Sessions over the TCP daemon transport (PROTOCOL.md section 11): what
// joins the daemon's authenticated connection (protocol/daemon.h) to the
// session roles, on both ends.
//
// After AuthResult{ok}, the client sends one SessionRequest (daemon_wire.h):
// the daemon's role and a path inside the module. The daemon then runs
// ServeSession on the socket, confined to the module's root by fd: the root
// is opened once and the request's path is resolved beneath it with openat2
// (RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so a symlink inside the module
// (module/link -> /etc) cannot be used to read or write outside it. A
// read-only module refuses the receiver role in the session handshake; the
// client shows the daemon's message.
//
// Thread safety: one call per connection; calls are independent (no chdir,
// no process-wide state), as the daemon's SessionFn must be.
#pragma once

#include <chrono>
#include <string>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/transfer/options.h"
#include "engine/transfer/report.h"
#include "protocol/daemon.h"
#include "protocol/session/client.h"

namespace ferry::protocol {

// The daemon's SessionFn: reads the SessionRequest (within
// `request_timeout`), then serves the session on ctx's socket (which stays
// the daemon's: it is dup'ed for the channel). Returns the session's
// failure, or a protocol error for a bad or missing request (logged by the
// daemon; the client then sees the connection close).
Status ServeDaemonSession(const SessionContext& ctx, io::BackendKind io,
                          std::chrono::milliseconds request_timeout);

struct DaemonAuth {
  std::string user;    // who to authenticate as (the target's user@ or $USER)
  std::string secret;  // --password-file or $FERRY_PASSWORD
  std::chrono::milliseconds timeout{30000};  // connecting plus authentication
};

// `ferry sync SRC ferry://host/module/path` (push) or with the daemon
// target as SRC (pull): exactly one of src and dst is a daemon target
// (IsDaemonTarget). Connects, authenticates, sends the SessionRequest and
// runs RunClientSession on the socket.
// Errors: kInvalidArgument (a bad target); kPermission for anything the
// daemon refuses before the transfer starts (authentication, a read-only
// module, a path outside the module: rsync's exit 5); kIo for the
// connection (exit 10); kCorrupt for the protocol stream (exit 12).
Result<RemoteResult> RunDaemonSync(const std::string& src, const std::string& dst,
                                   const SyncOptions& opt, const RemoteOptions& ro,
                                   const DaemonAuth& auth, SyncStats& stats, SyncEvents& events);

}  // namespace ferry::protocol
