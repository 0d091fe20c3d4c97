#include "protocol/session/verify_daemon.h"

#include "protocol/daemon_client.h"
#include "protocol/daemon_wire.h"

namespace ferry::protocol {

Result<RemoteVerifyResult> RunDaemonVerify(const VerifyRequest& req, const VerifyOptions& opt,
                                           const RemoteOptions& ro, const DaemonAuth& auth,
                                           VerifyEvents& events) {
  const bool remote_src = IsDaemonTarget(req.src);
  if (remote_src == IsDaemonTarget(req.dst)) {
    return InvalidArgument(
        "exactly one of SRC and DST must be a daemon module (ferry://host/module or "
        "host::module)");
  }
  // The other side is this machine's (ferry does not verify between two
  // remote hosts, as it does not copy between them).
  if (ParseRemote(remote_src ? req.dst : req.src)) {
    return InvalidArgument("exactly one of SRC and DST may be remote: " +
                           (remote_src ? req.dst : req.src) + " is a remote-shell path");
  }
  ASSIGN_OR_RETURN(DaemonTarget target, ParseDaemonTarget(remote_src ? req.src : req.dst));
  const std::string server = FormatHostPort(HostPort{target.host, target.port});
  // The path inside the module, trailing slash kept (the module root: ".").
  RemoteSpec spec;
  spec.host = target.host;
  spec.path = target.path;
  auto connect = [&](const RemoteSpec& s, const SessionOptions& so) -> Result<RemoteSession> {
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(DaemonConnection conn,
                     ConnectDaemon(target, auth.user, auth.secret, auth.timeout));
    SessionRequest sr;
    sr.role = DaemonRole::kVerifySide;
    sr.path = s.path;
    std::vector<std::byte> out;
    AppendSessionRequest(sr, &out);
    RETURN_IF_ERROR(WriteAll(conn.fd.get(), out, start + auth.timeout, -1)
                        .WithContext("ferry daemon " + server));
    ChannelConfig cc;
    cc.role = Role::kClient;
    const int fd = conn.fd.release();  // the channel owns it from here
    auto ch = Channel::Connect(fd, fd, cc, so);
    if (!ch.ok()) {
      const Status& e = ch.status();
      // Refused in the session handshake (a path outside the module, a
      // missing module root): the daemon's message, exit 5 as the sync's.
      if (e.code() == ErrorCode::kUnsupported)
        return Status(ErrorCode::kPermission, "ferry daemon " + server + ": " + e.message());
      return e;
    }
    RemoteSession session;
    session.channel = std::move(ch).value();
    return session;
  };
  return RunVerifySession(req, opt, ro, remote_src, spec, connect, events);
}

}  // namespace ferry::protocol
