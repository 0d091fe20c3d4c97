#include "engine/plan/leg.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "engine/transfer/sync.h"
#include "engine/io/io_backend.h"
#include "protocol/daemon_client.h"
#include "protocol/session/client.h"
#include "protocol/session/daemon_session.h"

namespace ferry::plan {

Result<protocol::DaemonAuth> DaemonAuthFor(const Endpoint& e) {
  protocol::DaemonAuth auth;
  auth.user = e.user;
  for (const char* var : {"USER", "LOGNAME"})
    if (const char* v = std::getenv(var); auth.user.empty() && v && *v) auth.user = v;
  if (const passwd* pw = getpwuid(geteuid()); auth.user.empty() && pw && pw->pw_name)
    auth.user = pw->pw_name;
  if (auth.user.empty()) auth.user = std::to_string(geteuid());
  if (!e.password_file.empty()) {
    ASSIGN_OR_RETURN(std::unique_ptr<io::IoBackend> io, io::MakeBackend(io::BackendKind::kPosix));
    auto secret = protocol::ReadPasswordFile(e.password_file, *io);
    if (!secret.ok())
      return Status(secret.status().code(),
                    "endpoint " + e.name + ": password_file: " + secret.status().message());
    auth.secret = *secret;
  } else if (const char* env = std::getenv("FERRY_PASSWORD"); env && *env) {
    auth.secret = env;
  } else {
    return InvalidArgument("endpoint " + e.name + " (" + e.spec +
                           ") needs the daemon module's secret: give the endpoint a "
                           "password_file (mode 0600) or set FERRY_PASSWORD");
  }
  return auth;
}

bool IsRemoteLeg(const Transfer& t) {
  return t.src.kind != EndpointKind::kLocal || t.dst.kind != EndpointKind::kLocal;
}

std::string RemoteLegRefusal(const Transfer& t, const LegOptions& /*o*/) {
  if (!IsRemoteLeg(t)) return "";
  const std::string leg =
      EndpointDisplay(t.src, t.src_path) + " -> " + EndpointDisplay(t.dst, t.dst_path);
  if (t.src.kind == EndpointKind::kSsh && t.dst.kind == EndpointKind::kSsh)
    return leg + ": both ends are ssh endpoints; one end of a sync must be local";
  if (t.src.kind != EndpointKind::kLocal && t.dst.kind != EndpointKind::kLocal)
    return leg + ": both ends are remote (ssh or ferry daemon); one end of a sync must be local";
  return "";
}

Result<LegOutcome> RunLeg(const Transfer& t, const LegOptions& o, SyncStats& stats,
                          SyncEvents& events) {
  SyncOptions opt;
  opt.del = o.del;
  opt.dry_run = o.dry_run;
  opt.checksum = o.checksum;
  opt.filter = o.filter;
  opt.id_map = o.ids;
  if (!IsRemoteLeg(t)) {
    ASSIGN_OR_RETURN(SyncOutcome out, RunLocalSync({t.src_path, t.dst_path}, opt, stats, events));
    return LegOutcome{out.seconds, out.partial};
  }
  if (std::string why = RemoteLegRefusal(t, o); !why.empty())
    return Status(ErrorCode::kUnsupported, why);
  // A remote end that goes away must fail the write, not kill the runner.
  ::signal(SIGPIPE, SIG_IGN);
  protocol::RemoteOptions ro;
  ro.rsh = o.rsh;
  ro.remote_ferry = o.remote_ferry;
  if (t.src.kind == EndpointKind::kDaemon || t.dst.kind == EndpointKind::kDaemon) {
    const Endpoint& d = t.src.kind == EndpointKind::kDaemon ? t.src : t.dst;
    ASSIGN_OR_RETURN(protocol::DaemonAuth auth, DaemonAuthFor(d));
    ASSIGN_OR_RETURN(protocol::RemoteResult r,
                     protocol::RunDaemonSync(EndpointDisplay(t.src, t.src_path),
                                             EndpointDisplay(t.dst, t.dst_path), opt, ro, auth,
                                             stats, events));
    return LegOutcome{r.outcome.seconds, r.outcome.partial};
  }
  ASSIGN_OR_RETURN(protocol::RemoteResult r,
                   protocol::RunRemoteSync(EndpointDisplay(t.src, t.src_path),
                                           EndpointDisplay(t.dst, t.dst_path), opt, ro, stats,
                                           events));
  return LegOutcome{r.outcome.seconds, r.outcome.partial};
}

std::optional<std::string> LocalMirrorOfDestination(const Transfer& t) {
  if (t.dst.kind == EndpointKind::kLocal) return t.dst_path;
  if (t.src.kind == EndpointKind::kLocal) return t.src_path;
  return std::nullopt;
}

}  // namespace ferry::plan
