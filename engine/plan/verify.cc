#include "engine/plan/verify.h"

#include <signal.h>

#include <memory>

#include "engine/plan/leg.h"
#include "engine/verify/verify.h"
#include "protocol/session/verify_daemon.h"
#include "protocol/session/verify_remote.h"

namespace ferry::plan {
namespace {

class CollectDifferences : public VerifyEvents {
 public:
  explicit CollectDifferences(VerifyResult* r) : r_(r) {}
  void OnDifference(const Difference& d) override {
    r_->differences.push_back({d.path, d.Itemized() + d.Suffix()});
  }
  void OnError(const Status& e) override {
    r_->differences.push_back({"", "not verified: " + e.message()});
  }

 private:
  VerifyResult* r_;
};

std::shared_ptr<const FilterList> FilterOf(const Transfer& t, Status* bad) {
  if (t.filter.empty()) return nullptr;
  auto f = std::make_shared<FilterList>();
  for (const std::string& r : t.filter)
    if (Status s = f->AddRule(RuleType::kExclude, r); !s.ok()) *bad = s;
  return f;
}

VerifyResult FromOutcome(VerifyResult r, const VerifyOutcome& out) {
  if (out.vanished)
    r.differences.push_back({"", std::to_string(out.vanished) +
                                     " source file(s) vanished while they were compared"});
  r.files = out.entries;
  r.bytes = out.bytes_hashed / 2;
  return r;
}

Result<VerifyOptions> OptionsFor(const Transfer& t) {
  VerifyOptions opt;
  Status bad = Status::Ok();
  opt.filter = FilterOf(t, &bad);
  RETURN_IF_ERROR(bad);
  // Owners are compared with the ids the sync gave them.
  if (t.ids && !t.ids->empty()) opt.id_map = t.ids;
  return opt;
}

}  // namespace

Result<VerifyResult> TreeVerifier(const Transfer& t) {
  if (t.src.kind != EndpointKind::kLocal || t.dst.kind != EndpointKind::kLocal)
    return RemoteVerifier(t);
  ASSIGN_OR_RETURN(VerifyOptions opt, OptionsFor(t));
  VerifyResult r;
  CollectDifferences ev(&r);
  ASSIGN_OR_RETURN(VerifyOutcome out, VerifyTrees({t.src_path, t.dst_path}, opt, ev));
  return FromOutcome(std::move(r), out);
}

Result<VerifyResult> RemoteVerifier(const Transfer& t) {
  const std::string src = EndpointDisplay(t.src, t.src_path);
  const std::string dst = EndpointDisplay(t.dst, t.dst_path);
  const std::string what = "verify " + t.label + ": " + src + " -> " + dst + ": ";
  if (t.src.kind != EndpointKind::kLocal && t.dst.kind != EndpointKind::kLocal)
    return Status(ErrorCode::kUnsupported, what + "both ends are remote");
  ASSIGN_OR_RETURN(VerifyOptions opt, OptionsFor(t));
  // A remote end that goes away must fail the write, not kill the runner.
  ::signal(SIGPIPE, SIG_IGN);
  protocol::RemoteOptions ro;
  ro.rsh = t.rsh.empty() ? "ssh" : t.rsh;
  ro.remote_ferry = t.remote_ferry.empty() ? "ferry" : t.remote_ferry;
  VerifyResult r;
  CollectDifferences ev(&r);
  Result<protocol::RemoteVerifyResult> out = Status(ErrorCode::kInternal, "not run");
  if (t.src.kind == EndpointKind::kDaemon || t.dst.kind == EndpointKind::kDaemon) {
    auto auth = DaemonAuthFor(t.src.kind == EndpointKind::kDaemon ? t.src : t.dst);
    if (!auth.ok()) return Status(auth.status().code(), what + auth.status().message());
    out = protocol::RunDaemonVerify({src, dst}, opt, ro, *auth, ev);
  } else {
    out = protocol::RunRemoteVerify({src, dst}, opt, ro, ev);
  }
  if (!out.ok()) return Status(out.status().code(), what + out.status().message());
  return FromOutcome(std::move(r), out->outcome);
}

Result<VerifyResult> CutoverVerifier(const Transfer& t) { return TreeVerifier(t); }

}  // namespace ferry::plan
