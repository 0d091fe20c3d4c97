// Rendering for the terminal and for automation: a live one-line progress
// display, rsync-style --stats, and a --json summary.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "cli/progress_estimator.h"
#include "engine/transfer/report.h"

namespace ferry::cli {

std::string HumanBytes(double bytes);  // "1.5 GiB"
std::string Grouped(uint64_t n);        // "1,234,567"

// One progress line on stderr, redrawn in place about 5 times a second:
// the phase, then bytes and files done of the planned totals, percentage,
// rate and ETA (ProgressEstimator: nothing shown goes backwards). Start()
// launches a thread; Stop() joins it and clears the line. When stderr is not
// a terminal (terminal = false: `--progress` into a log), whole lines are
// written every 5 seconds instead, and Stop() writes a last one.
class ProgressLine {
 public:
  explicit ProgressLine(const SyncStats& stats, std::string label = "sync",
                        bool terminal = true);
  ~ProgressLine();
  // Totals known before the pass plans (a resumed plan pass: what its
  // cut-off attempt planned): shown from the first draw, with the clock of
  // the rate started at once (ProgressEstimator::Seed). Before Start().
  void Seed(uint64_t total_files, uint64_t total_bytes);
  void Start();
  void Stop();
  // The text drawn for the current counters and elapsed seconds. Not const:
  // each call is a sample for the estimator. Called by the drawing thread
  // only (or by tests, without Start()).
  std::string Render(double elapsed);

 private:
  double Elapsed() const;

  const SyncStats& stats_;
  std::string label_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  ProgressEstimator estimator_;
  double copy_start_ = -1;  // elapsed when the plan was first seen
  bool seeded_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  size_t last_len_ = 0;
};

std::string StatsText(const SyncStats& s, const SyncOutcome& o);
std::string StatsJson(const SyncStats& s, const SyncOutcome& o, int exit_code);
// The counters of a pass as an estimator sample (done: bytes landed, or
// counted in a dry run).
ProgressSample SampleOf(const SyncStats& s, double elapsed);

}  // namespace ferry::cli
