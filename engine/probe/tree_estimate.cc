#include "engine/probe/tree_estimate.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "engine/io/io_backend.h"
#include "engine/probe/scratch_dir.h"
#include "engine/transfer/sync.h"
#include "engine/tree/scan.h"

namespace ferry::probe {

namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

Status Walk(io::IoBackend& io, int dirfd, const std::string& rel, int64_t since, TreeCounts* c) {
  ASSIGN_OR_RETURN(std::vector<Entry> list, ListDir(io, dirfd, rel.empty() ? "." : rel));
  for (const Entry& e : list) {
    ++c->entries;
    if (e.is_reg()) {
      ++c->files;
      c->bytes += e.size;
      if (e.mtime_sec >= since) {
        ++c->recent_files;
        c->recent_bytes += e.size;
      }
    } else if (e.is_dir()) {
      ++c->dirs;
      std::string sub = rel.empty() ? e.name : rel + "/" + e.name;
      auto fd = io.OpenAt(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
      if (!fd.ok()) {
        if (fd.status().code() == ErrorCode::kNotFound) continue;  // vanished
        return fd.status().WithContext(sub);
      }
      RETURN_IF_ERROR(Walk(io, fd->get(), sub, since, c));
    }
  }
  return Status::Ok();
}

bool Positive(double v) { return std::isfinite(v) && v > 0; }

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * share);
  return buf;
}

}  // namespace

Result<TreeCounts> CountTree(const std::string& root, int64_t now_sec, int64_t window_seconds) {
  TreeCounts c;
  c.window_seconds = window_seconds;
  ASSIGN_OR_RETURN(std::unique_ptr<io::IoBackend> io, io::MakeBackend(io::BackendKind::kAuto));
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(io::UniqueFd fd, OpenDirectory(root));
  RETURN_IF_ERROR(Walk(*io, fd.get(), "", now_sec - window_seconds, &c).WithContext(root));
  c.scan_seconds = Since(t0);
  return c;
}

Result<PassPlan> PlanPass(const std::string& src, const std::string& dst, int jobs) {
  SyncOptions opt;
  opt.dry_run = true;
  opt.jobs = jobs;
  SyncStats stats;
  SyncEvents quiet;
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(SyncOutcome out, RunLocalSync(SyncRequest{src, dst}, opt, stats, quiet));
  PassPlan p;
  p.seconds = Since(t0);
  if (out.partial)
    return Status(ErrorCode::kIo, "dry run of " + src + " -> " + dst +
                                      " had errors; run `ferry sync -n` to see them");
  p.files = stats.planned_files.load();
  p.bytes = stats.planned_bytes.load();
  return p;
}

Result<Prediction> Predict(const TreeCounts& src, const PassPlan* plan, const MachineRates& r) {
  if (!Positive(r.read_bps)) return InvalidArgument("read rate must be positive");
  if (!Positive(r.write_bps)) return InvalidArgument("write rate must be positive");
  if (!Positive(r.create_per_s)) return InvalidArgument("create rate must be positive");
  const double stream = std::min(r.read_bps, r.write_bps);
  Prediction p;
  p.stage_one_seconds = static_cast<double>(src.bytes) / stream +
                        static_cast<double>(src.entries) / r.create_per_s;
  double scan = 0;
  if (plan) {
    p.delta_files = plan->files;
    p.delta_bytes = plan->bytes;
    scan = plan->seconds;
  } else {
    p.delta_files = src.recent_files;
    p.delta_bytes = src.recent_bytes;
    scan = src.scan_seconds;
  }
  p.changed_file_share = src.files ? static_cast<double>(p.delta_files) / static_cast<double>(src.files) : 0;
  p.changed_byte_share = src.bytes ? static_cast<double>(p.delta_bytes) / static_cast<double>(src.bytes) : 0;
  p.delta_seconds = scan + static_cast<double>(p.delta_bytes) / stream +
                    static_cast<double>(p.delta_files) / r.create_per_s;
  char scan_s[32];
  std::snprintf(scan_s, sizeof scan_s, "%.3f s", scan);
  if (plan) {
    p.assumption = "a delta pass sends what a dry run against DST finds now (" +
                   Percent(p.changed_file_share) + " of files, " + Percent(p.changed_byte_share) +
                   " of bytes), as whole files, after a scan and compare of both sides measured at " +
                   scan_s;
  } else {
    double hours = static_cast<double>(src.window_seconds) / 3600.0;
    char win[32];
    std::snprintf(win, sizeof win, "%g h", hours);
    p.assumption = "assumes " + Percent(p.changed_file_share) + " of files (" +
                   Percent(p.changed_byte_share) + " of bytes) change between passes, as " +
                   "measured from SRC mtimes in the last " + win +
                   ", sent as whole files, after a scan measured at " + scan_s;
  }
  return p;
}

}  // namespace ferry::probe
