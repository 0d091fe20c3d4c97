// Rendering for the terminal and for automation: a live one-line progress
// display, rsync-style --stats, and a --json summary.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "engine/transfer/report.h"

namespace ferry::cli {

std::string HumanBytes(double bytes);  // "1.5 GiB"
std::string Grouped(uint64_t n);        // "1,234,567"

// One progress line on stderr, redrawn in place about 5 times a second:
// bytes and files done of the planned totals, rate, ETA. Start() launches a
// thread; Stop() joins it and clears the line.
class ProgressLine {
 public:
  explicit ProgressLine(const SyncStats& stats, std::string label = "sync");
  ~ProgressLine();
  void Start();
  void Stop();
  // The text drawn for the current counters and elapsed seconds (tests).
  std::string Render(double elapsed) const;

 private:
  const SyncStats& stats_;
  std::string label_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  size_t last_len_ = 0;
};

std::string StatsText(const SyncStats& s, const SyncOutcome& o);
std::string StatsJson(const SyncStats& s, const SyncOutcome& o, int exit_code);

}  // namespace ferry::cli
