#include "cli/progress_estimator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ferry::cli {

namespace {
// Below this span the window's rate is noise (first redraws of a pass).
constexpr double kMinSpan = 0.5;
// An ETA past this is not an estimate worth printing.
constexpr double kMaxEta = 100.0 * 24 * 3600;
}  // namespace

ProgressEstimator::ProgressEstimator(double file_cost_bytes, double window_seconds)
    : file_cost_(std::max(0.0, file_cost_bytes)), window_(std::max(kMinSpan, window_seconds)) {}

void ProgressEstimator::Seed(uint64_t total_bytes, uint64_t total_files) {
  seed_bytes_ = total_bytes;
  seed_files_ = total_files;
}

ProgressView ProgressEstimator::Update(const ProgressSample& in) {
  ProgressSample s = in;
  if (seed_bytes_ || seed_files_) {
    // This attempt's plan (when it has one) leaves out what landed before.
    const bool planned = s.total_bytes || s.total_files;
    if (planned && !seed_applied_) {
      // What landed before is no part of this attempt's rate.
      seed_applied_ = true;
      points_.clear();
    }
    if (planned) {
      s.done_bytes += seed_bytes_ - std::min(seed_bytes_, s.total_bytes);
      s.done_files += seed_files_ - std::min(seed_files_, s.total_files);
    }
    s.total_bytes = std::max(s.total_bytes, seed_bytes_);
    s.total_files = std::max(s.total_files, seed_files_);
  }
  ProgressView v;
  v.done_bytes = std::max(last_.done_bytes, s.done_bytes);
  v.done_files = std::max(last_.done_files, s.done_files);
  // Totals only grow: a vanished file leaves the total as the scan saw it,
  // and the done counters never pass it.
  v.total_bytes = std::max({last_.total_bytes, s.total_bytes, v.done_bytes});
  v.total_files = std::max({last_.total_files, s.total_files, v.done_files});

  double work_done = static_cast<double>(v.done_bytes) + file_cost_ * static_cast<double>(v.done_files);
  double work_total =
      static_cast<double>(v.total_bytes) + file_cost_ * static_cast<double>(v.total_files);
  double pct = work_total > 0 ? 100.0 * work_done / work_total : 100.0;
  // Grown totals would pull the fraction down: hold it until work catches up.
  v.percent = std::clamp(std::max(last_.percent, pct), 0.0, 100.0);

  double t = points_.empty() ? s.elapsed : std::max(s.elapsed, points_.back().t);
  points_.push_back({t, work_done, static_cast<double>(v.done_bytes)});
  // Keep one point at or before the window's start so the span covers it.
  while (points_.size() > 2 && points_[1].t <= t - window_) points_.pop_front();
  const Point& a = points_.front();
  const Point& b = points_.back();
  double span = b.t - a.t;
  double work_rate = 0;
  if (span >= kMinSpan) {
    work_rate = (b.work - a.work) / span;
    v.rate = (b.bytes - a.bytes) / span;
  }
  double remaining = std::max(0.0, work_total - work_done);
  if (s.finished) {
    v.percent = 100;
    v.eta = 0;
  } else if (remaining <= 0) {
    v.eta = 0;
  } else if (work_rate > 0) {
    double eta = remaining / work_rate;
    v.eta = std::isfinite(eta) && eta <= kMaxEta ? eta : -1;
  }
  if (!std::isfinite(v.rate) || v.rate < 0) v.rate = 0;
  last_ = v;
  return v;
}

std::string FormatEta(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "--:--:--";
  auto s = static_cast<long long>(std::llround(seconds));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace ferry::cli
