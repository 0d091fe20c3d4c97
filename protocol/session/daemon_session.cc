#include "protocol/session/daemon_session.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "protocol/daemon_client.h"
#include "protocol/daemon_wire.h"
#include "protocol/path_check.h"
#include "protocol/session/serve.h"
#include "protocol/session/streams.h"

namespace ferry::protocol {

Status ServeDaemonSession(const SessionContext& ctx, io::BackendKind io,
                          std::chrono::milliseconds request_timeout) {
  const Deadline deadline = std::chrono::steady_clock::now() + request_timeout;
  ASSIGN_OR_RETURN(Frame frame, ReadHandshakeFrame(ctx.in_fd, deadline, -1, "SessionRequest"));
  Result<SessionRequest> decoded = DecodeSessionRequest(frame);
  if (!decoded.ok()) {
    // Refused in the session handshake, so the client shows why.
    const int fd = ::fcntl(ctx.in_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return PosixError("dup", "connection socket", errno);
    ChannelConfig cc;
    cc.role = Role::kServer;
    auto refuse = [&](const SessionOptions&) { return decoded.status(); };
    return Channel::Accept(fd, fd, cc, refuse).status();
  }
  const SessionRequest& req = *decoded;
  ServeRequest sr;
  sr.role = req.role == DaemonRole::kReceiver     ? ServeRole::kReceiver
            : req.role == DaemonRole::kVerifySide ? ServeRole::kVerifySide
                                                  : ServeRole::kSender;
  sr.path = req.path;
  ServeOptions so;
  so.root = ctx.root;
  so.read_only = ctx.read_only;
  so.io = io;
  // The channel closes what it is given; the daemon closes ctx's fd itself.
  const int fd = ::fcntl(ctx.in_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return PosixError("dup", "connection socket", errno);
  Result<SyncOutcome> r = ServeSession(fd, fd, sr, so);
  if (!r.ok()) return r.status();
  if (r->partial) return Status(ErrorCode::kIo, "partial transfer (errors were sent to the client)");
  return Status::Ok();
}

Result<RemoteResult> RunDaemonSync(const std::string& src, const std::string& dst,
                                   const SyncOptions& opt, const RemoteOptions& ro,
                                   const DaemonAuth& auth, SyncStats& stats, SyncEvents& events) {
  if (ro.streams > 1 && ro.stream_count == 0) {
    // --streams N: N connections, each authenticated and confined like one
    // (the module's max_connections must admit them), then the final pass.
    const uint32_t run_id = std::random_device{}();
    auto one = [&](uint32_t k, uint32_t n, const SyncOptions& so, SyncStats& st,
                   SyncEvents& ev) {
      RemoteOptions r = ro;
      r.streams = 1;
      r.stream_index = k;
      r.stream_count = n;
      r.run_id = run_id;
      return RunDaemonSync(src, dst, so, r, auth, st, ev);
    };
    return RunStreams(ro.streams, opt, one, stats, events);
  }
  const bool push = IsDaemonTarget(dst);
  if (push == IsDaemonTarget(src)) {
    return InvalidArgument(
        "exactly one of SRC and DST must be a daemon module (ferry://host/module or "
        "host::module)");
  }
  ASSIGN_OR_RETURN(DaemonTarget target, ParseDaemonTarget(push ? dst : src));
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(DaemonConnection conn,
                   ConnectDaemon(target, auth.user, auth.secret, auth.timeout));
  const std::string server = FormatHostPort(HostPort{target.host, target.port});
  if (push && conn.read_only) {
    return Status(ErrorCode::kPermission, "ferry daemon " + server + ": module " +
                                              target.module + " is read-only");
  }
  SessionRequest req;
  req.role = push ? DaemonRole::kReceiver : DaemonRole::kSender;
  req.path = target.path;
  std::vector<std::byte> out;
  AppendSessionRequest(req, &out);
  RETURN_IF_ERROR(WriteAll(conn.fd.get(), out, start + auth.timeout, -1)
                      .WithContext("ferry daemon " + server));
  const int fd = conn.fd.release();
  Result<RemoteResult> r =
      RunClientSession(fd, fd, push, push ? src : dst, opt, ro, stats, events);
  if (!r.ok()) {
    const Status& s = r.status();
    // The daemon refused the session in its handshake: rsync's "@ERROR"
    // before the transfer, exit 5.
    if (s.code() == ErrorCode::kUnsupported) {
      return Status(ErrorCode::kPermission, "ferry daemon " + server + ": " + s.message());
    }
    return s;
  }
  RemoteResult res = std::move(*r);
  res.outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

}  // namespace ferry::protocol
