// What a sync reports while it runs and when it ends.
//
// SyncStats counters are atomics updated by worker threads; readers (the
// progress display) may read them at any time. SyncEvents callbacks are
// invoked from worker threads, serialised by the engine (one at a time).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace ferry {

struct SyncStats {
  // Scan.
  std::atomic<uint64_t> files{0};      // all source entries considered
  std::atomic<uint64_t> reg_files{0};
  std::atomic<uint64_t> dirs{0};
  std::atomic<uint64_t> symlinks{0};
  std::atomic<uint64_t> specials{0};   // devices, fifos, sockets
  std::atomic<uint64_t> total_size{0}; // bytes of regular source files

  // Plan: known once the comparison is done; progress uses these as totals.
  std::atomic<uint64_t> planned_files{0};  // regular files to transfer
  std::atomic<uint64_t> planned_bytes{0};  // their sizes
  std::atomic<bool> planned{false};

  // Work done.
  std::atomic<uint64_t> created{0};        // entries created on DST
  std::atomic<uint64_t> deleted{0};
  std::atomic<uint64_t> transferred_files{0};
  std::atomic<uint64_t> transferred_bytes{0};  // file bytes landed
  std::atomic<uint64_t> literal_bytes{0};   // bytes copied as data
  std::atomic<uint64_t> matched_bytes{0};   // bytes reused from DST (delta, appends)
  std::atomic<uint64_t> reflinked_bytes{0};
  std::atomic<uint64_t> hard_links{0};
  std::atomic<uint64_t> renamed_files{0};    // made by renaming a DST file
  std::atomic<uint64_t> dst_copied_files{0}; // made by copying a DST file
  std::atomic<uint64_t> renamed_bytes{0};    // their sizes: data not sent
  std::atomic<uint64_t> appended_files{0};   // only the tail was sent
  std::atomic<uint64_t> append_reused_bytes{0};  // their prefixes, not sent
  std::atomic<uint64_t> meta_updates{0};    // metadata-only changes
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> vanished{0};
  std::atomic<uint64_t> delete_skipped{0};  // stopped by --max-delete
};

// Receives what the user sees. Default implementations do nothing.
class SyncEvents {
 public:
  virtual ~SyncEvents() = default;
  // One rsync-style itemized change: "YXcstpoguax path" (see itemize.h).
  virtual void OnItem(std::string_view /*itemized*/, std::string_view /*path*/) {}
  // A per-path error: the rest of the tree goes on.
  virtual void OnError(const Status& /*error*/) {}
  // A one-line warning (e.g. owner not preserved when not root).
  virtual void OnWarning(std::string_view /*message*/) {}
};

// The outcome of a whole sync, mapped to rsync's exit codes by cli/.
struct SyncOutcome {
  bool partial = false;         // some paths failed (rsync 23)
  bool vanished = false;        // some source files vanished (rsync 24)
  bool max_delete_hit = false;  // deletions stopped (rsync 25)
  double seconds = 0;
};

}  // namespace ferry
