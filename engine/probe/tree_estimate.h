// `ferry bench --estimate SRC [DST]`: what a tree will cost to migrate on
// this machine. Counting (CountTree) and planning (PlanPass) touch the trees
// read-only; Predict is the model, a pure function of their results and the
// measured rates, so the arithmetic is testable on its own.
//
// The model (stated in Prediction::assumption for the operator):
//   stage one  = bytes / min(read, write) + entries / create rate
//   delta pass = scan + changed bytes / min(read, write)
//                + changed files / create rate
// where "changed" is, with DST, what a dry run against DST would send now,
// and without DST, the files whose mtime lies in the last `window` seconds
// (the assumption: the same share changes again before each pass). Changed
// files are counted as sent whole; delta transfer only makes a pass shorter.
//
// Thread safety: independent calls. PlanPass runs RunLocalSync's workers.
#pragma once

#include <cstdint>
#include <string>

#include "engine/base/status.h"

namespace ferry::probe {

struct TreeCounts {
  uint64_t entries = 0;       // everything below the root, as sync sees it
  uint64_t files = 0;         // regular files
  uint64_t dirs = 0;
  uint64_t bytes = 0;         // sizes of regular files
  int64_t window_seconds = 0;
  uint64_t recent_files = 0;  // regular files with mtime within the window
  uint64_t recent_bytes = 0;
  double scan_seconds = 0;    // this walk's wall time (one stat per entry)
};

// Walks the directory `root` (symlinks not followed, nothing excluded) and
// counts it. now_sec: the current time (seconds since the epoch) the window
// ends at. Errors: root is not a directory or cannot be opened; a
// subdirectory that cannot be read fails the count (the estimate would be
// wrong), naming it.
Result<TreeCounts> CountTree(const std::string& root, int64_t now_sec, int64_t window_seconds);

struct PassPlan {
  uint64_t files = 0;  // regular files the pass would send
  uint64_t bytes = 0;
  double seconds = 0;  // the dry run's wall time: scan and compare of both sides
};

// A dry run of `ferry sync SRC DST` (rsync's trailing-slash rule applies):
// what the next pass would send. Changes nothing. jobs as --jobs.
Result<PassPlan> PlanPass(const std::string& src, const std::string& dst, int jobs);

struct MachineRates {
  double read_bps = 0;
  double write_bps = 0;
  double create_per_s = 0;
};

struct Prediction {
  double stage_one_seconds = 0;
  uint64_t delta_files = 0;
  uint64_t delta_bytes = 0;
  double delta_seconds = 0;
  double changed_file_share = 0;  // delta_files / files (0 for an empty tree)
  double changed_byte_share = 0;  // delta_bytes / bytes
  std::string assumption;         // one sentence, for the table and JSON
};

// plan: the dry run against DST, or null to use src's recent mtimes.
// Errors: kInvalidArgument when a rate is not positive and finite.
Result<Prediction> Predict(const TreeCounts& src, const PassPlan* plan, const MachineRates& rates);

}  // namespace ferry::probe
