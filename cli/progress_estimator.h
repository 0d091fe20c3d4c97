// ProgressEstimator: turns raw counters of a running pass (bytes and files
// done, totals from the scan) into what a progress line shows: done and total,
// a percentage, a rate and an ETA, with guarantees an operator relies on.
//
// Guarantees, for any sequence of samples (counters may be revised either
// way: files grew, vanished, or --checksum found more to send):
//   - done_bytes, done_files, total_bytes, total_files and percent never
//     decrease from one Update() to the next;
//   - done <= total for bytes and files, and 0 <= percent <= 100;
//   - percent reaches 100 only when the work counted is complete (or the pass
//     is marked finished); when totals grow, percent holds still until the
//     work done catches up, rather than jumping back;
//   - rate >= 0 and finite; eta is either unknown (< 0) or finite and >= 0,
//     and 0 once finished.
//
// Work is measured as bytes plus a fixed cost per file (file_cost_bytes), so
// a tree of many small files does not sit at 0% while thousands of files
// land. The rate is taken over a sliding window (window_seconds) so the ETA
// follows the current speed, not the average since the start.
//
// Thread safety: thread-compatible (one display thread owns it).
// Cost: O(1) amortised per Update; memory O(samples in the window).
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace ferry::cli {

struct ProgressSample {
  double elapsed = 0;  // seconds since the pass started; non-decreasing
  uint64_t done_bytes = 0;
  uint64_t total_bytes = 0;
  uint64_t done_files = 0;
  uint64_t total_files = 0;
  bool finished = false;  // the pass is over: percent 100, eta 0
};

struct ProgressView {
  uint64_t done_bytes = 0;
  uint64_t total_bytes = 0;
  uint64_t done_files = 0;
  uint64_t total_files = 0;
  double percent = 0;  // 0..100
  double rate = 0;     // bytes per second over the window
  double eta = -1;     // seconds; < 0: not known yet
};

class ProgressEstimator {
 public:
  explicit ProgressEstimator(double file_cost_bytes = 64 * 1024,
                             double window_seconds = 10);

  // Totals known before this pass plans its own: those an earlier attempt
  // of the same pass planned before it was cut off (a resumed plan pass).
  // From then on the totals shown are at least these, and what the earlier
  // attempt already landed counts as done: once a sample carries this
  // attempt's own (smaller) totals, done grows by the difference. Until
  // then done is 0 of the seeded totals. Call before the first Update.
  void Seed(uint64_t total_bytes, uint64_t total_files);

  // Folds in one sample and returns what to show.
  ProgressView Update(const ProgressSample& sample);

 private:
  struct Point {
    double t;
    double work;
    double bytes;
  };
  double file_cost_;
  double window_;
  uint64_t seed_bytes_ = 0, seed_files_ = 0;
  bool seed_applied_ = false;  // a sample with this attempt's totals came
  ProgressView last_;
  std::deque<Point> points_;
};

// "H:MM:SS" for an ETA, "--:--:--" when unknown (< 0).
std::string FormatEta(double seconds);

}  // namespace ferry::cli
