#include "engine/plan/verify.h"

#include <memory>

#include "engine/transfer/sync.h"
#include "engine/verify/verify.h"

namespace ferry::plan {
namespace {

class Collect : public SyncEvents {
 public:
  explicit Collect(VerifyResult* r) : r_(r) {}
  void OnItem(std::string_view item, std::string_view path) override {
    r_->differences.push_back({std::string(path), std::string(item)});
  }
  void OnError(const Status& e) override { r_->differences.push_back({"", e.message()}); }

 private:
  VerifyResult* r_;
};

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

}  // namespace

Result<VerifyResult> TreeVerifier(const Transfer& t) {
  if (t.src.kind != EndpointKind::kLocal || t.dst.kind != EndpointKind::kLocal)
    return RemoteVerifier(t);
  if (t.ids && !t.ids->empty()) return ChecksumDryRunVerifier(t);
  VerifyOptions opt;
  Status bad = Status::Ok();
  opt.filter = FilterOf(t, &bad);
  RETURN_IF_ERROR(bad);
  VerifyResult r;
  CollectDifferences ev(&r);
  ASSIGN_OR_RETURN(VerifyOutcome out, VerifyTrees({t.src_path, t.dst_path}, opt, ev));
  if (out.vanished)
    r.differences.push_back({"", std::to_string(out.vanished) +
                                     " source file(s) vanished while they were compared"});
  r.files = out.entries;
  r.bytes = out.bytes_hashed / 2;
  return r;
}

Result<VerifyResult> RemoteVerifier(const Transfer& t) {
  return Status(ErrorCode::kUnsupported,
                "verify " + t.label + ": " + EndpointDisplay(t.src, t.src_path) + " -> " +
                    EndpointDisplay(t.dst, t.dst_path) +
                    ": ferry cannot verify an ssh endpoint yet (no remote `ferry verify`, and "
                    "the remote sync has no checksum dry run); the cutover stops here rather "
                    "than switch to an unverified destination");
}

Result<VerifyResult> CutoverVerifier(const Transfer& t) { return TreeVerifier(t); }

Result<VerifyResult> ChecksumDryRunVerifier(const Transfer& t) {
  if (t.src.kind != EndpointKind::kLocal || t.dst.kind != EndpointKind::kLocal)
    return RemoteVerifier(t);
  SyncOptions opt;
  opt.checksum = true;
  opt.dry_run = true;
  opt.del = true;
  // Owners are compared with the ids the sync gave them.
  opt.id_map = t.ids;
  if (!t.filter.empty()) {
    auto f = std::make_shared<FilterList>();
    for (const std::string& r : t.filter) RETURN_IF_ERROR(f->AddRule(RuleType::kExclude, r));
    opt.filter = f;
  }
  VerifyResult r;
  Collect ev(&r);
  SyncStats stats;
  ASSIGN_OR_RETURN(SyncOutcome out, RunLocalSync({t.src_path, t.dst_path}, opt, stats, ev));
  (void)out;
  r.files = stats.reg_files.load();
  r.bytes = stats.total_size.load();
  return r;
}

}  // namespace ferry::plan
