#include "engine/plan/leg.h"

#include <signal.h>

#include "engine/transfer/sync.h"
#include "protocol/session/client.h"

namespace ferry::plan {

bool IsRemoteLeg(const Transfer& t) {
  return t.src.kind != EndpointKind::kLocal || t.dst.kind != EndpointKind::kLocal;
}

std::string RemoteLegRefusal(const Transfer& t, const LegOptions& /*o*/) {
  if (!IsRemoteLeg(t)) return "";
  const std::string leg =
      EndpointDisplay(t.src, t.src_path) + " -> " + EndpointDisplay(t.dst, t.dst_path);
  if (t.src.kind == EndpointKind::kDaemon || t.dst.kind == EndpointKind::kDaemon)
    return leg + ": sync with a ferry daemon endpoint is not available to plans yet; use "
                 "an ssh endpoint ([user@]host:path)";
  if (t.src.kind == EndpointKind::kSsh && t.dst.kind == EndpointKind::kSsh)
    return leg + ": both ends are ssh endpoints; one end of a sync must be local";
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
