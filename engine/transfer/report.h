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

// Where a sync is; progress displays name it. Phases only move forward.
enum class SyncPhase : uint8_t {
  kScan,    // walking SRC and DST; totals still growing
  kCopy,    // executing the plan: deletes, creates, data
  kLink,    // hard links to their leaders
  kFinish,  // directory metadata, after all contents
  kDone,
};

struct SyncStats {
  std::atomic<SyncPhase> phase{SyncPhase::kScan};

  // Scan.
  std::atomic<uint64_t> files{0};      // all source entries considered
  std::atomic<uint64_t> reg_files{0};
  std::atomic<uint64_t> dirs{0};
  std::atomic<uint64_t> symlinks{0};
  std::atomic<uint64_t> specials{0};   // devices, fifos, sockets
  std::atomic<uint64_t> total_size{0}; // bytes of regular source files

  // Plan: known once the comparison is done; progress uses these as totals.
  // With --checksum they grow during kCopy as hashing finds files that differ.
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
  std::atomic<uint64_t> unsafe_links{0};    // --safe-links: symlinks not copied
};

// Receives what the user sees. Default implementations do nothing, except
// that the richer callbacks (OnChange, OnPathError, OnVanished) fall back to
// the plain ones, so a receiver overrides only what it renders.
class SyncEvents {
 public:
  virtual ~SyncEvents() = default;
  // One rsync-style itemized change: "YXcstpoguax path" (see itemize.h).
  virtual void OnItem(std::string_view /*itemized*/, std::string_view /*path*/) {}
  // The same change, in parts; the engine calls this one.
  struct Change {
    std::string_view itemized;  // "YXcstpoguax" or "*deleting  "
    std::string_view path;      // relative; directories end in '/'
    // What -i prints after the path: " -> TARGET" for a symlink,
    // " => LEADER" for a hard link; empty otherwise.
    std::string_view detail;
    // File data landed: the size of a regular file sent (or that would be,
    // in a dry run); 0 for metadata, links, directories and deletions.
    uint64_t bytes = 0;
  };
  virtual void OnChange(const Change& c) {
    OnItem(c.itemized, std::string(c.path) + std::string(c.detail));
  }
  // A per-path error: the rest of the tree goes on.
  virtual void OnError(const Status& /*error*/) {}
  // The same, with the path (relative to the transfer root, "." for the
  // root) when the engine knows it; the message names it as well.
  virtual void OnPathError(std::string_view /*path*/, const Status& error) {
    OnError(error);
  }
  // A one-line warning (e.g. owner not preserved when not root).
  virtual void OnWarning(std::string_view /*message*/) {}
  // A source file vanished between the scan and its copy (rsync exit 24).
  virtual void OnVanished(std::string_view path) {
    OnWarning("file has vanished: " + std::string(path));
  }
  // Scan and plan are done: stats.planned_files/planned_bytes hold the
  // totals of this pass (called once; locally before any data moves). A
  // remote session calls it when its receiver has compared the whole list
  // (protocol PlannedTotals); files that landed while the list streamed are
  // in the totals. With --streams, once: when every stream has planned,
  // with their sum. Not called when the peer cannot tell them (an older
  // ferry).
  virtual void OnPlanned(const SyncStats& /*stats*/) {}
};

// The outcome of a whole sync, mapped to rsync's exit codes by cli/.
struct SyncOutcome {
  bool partial = false;         // some paths failed (rsync 23)
  bool vanished = false;        // some source files vanished (rsync 24)
  bool max_delete_hit = false;  // deletions stopped (rsync 25)
  double seconds = 0;
};

}  // namespace ferry
