#include "engine/plan/verify.h"

#include <memory>

#include "engine/transfer/sync.h"

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

}  // namespace

Result<VerifyResult> ChecksumDryRunVerifier(const Transfer& t) {
  if (t.src.kind != EndpointKind::kLocal || t.dst.kind != EndpointKind::kLocal)
    return Status(ErrorCode::kUnsupported,
                  "verify " + t.label + ": only local endpoints can be verified until remote "
                  "sync exists");
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
