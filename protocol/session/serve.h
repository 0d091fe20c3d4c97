// The server side of a session: `ferry serve --stdio` over a remote shell,
// and the entry point the TCP daemon calls with a connected socket. Runs
// the handshake as the server and then the requested role.
//
// The request (which role, which path) comes from the transport: the remote
// command line (`ferry serve --stdio --sender PATH`), or a daemon's module.
//
// Errors of single paths are sent to the client (Error messages), which
// shows them and picks the exit code; the Status returned is the session's
// failure, which the caller prints (a server's stderr reaches the user
// through ssh).
//
// Thread safety: one call per session; sessions are independent.
#pragma once

#include <string>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/transfer/report.h"
#include "protocol/channel.h"

namespace ferry::protocol {

// kVerifySide: one side of `ferry verify` (verify_side.h); kBenchSink: the
// far end of `ferry bench --remote` (bench_transport.h).
enum class ServeRole : uint8_t { kSender, kReceiver, kVerifySide, kBenchSink };

struct ServeRequest {
  ServeRole role = ServeRole::kSender;
  std::string path;  // as the client wrote it (trailing slash matters)
};

struct ServeOptions {
  // Non-empty: the session is confined to this directory (a daemon module):
  // the request's path must be relative without ".." (CheckWirePath); the
  // root is opened once and the path resolved beneath its fd without
  // following symlinks (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), for
  // both roles, before the options are acknowledged: a refused path (or a
  // missing source) is the handshake's Error, which the client shows.
  std::string root;
  bool read_only = false;  // refuse to be the receiver
  io::BackendKind io = io::BackendKind::kAuto;
  ChannelConfig channel;  // role is set to kServer
  // The process serves this one session and exits (`serve --stdio`): see
  // ReceiverConfig::leave_state_to_exit.
  bool one_session = false;
};

// Takes ownership of both fds (one socket: pass it twice). Returns the
// outcome (partial/vanished) or the session's failure.
Result<SyncOutcome> ServeSession(int in_fd, int out_fd, const ServeRequest& request,
                                 const ServeOptions& options);

}  // namespace ferry::protocol
