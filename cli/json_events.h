// JsonEvents: `ferry sync --json`, one JSON object per line on a stream, for
// automation. Events, in order for each source:
//   {"event":"start","src","dst","dry_run","files","total_size",
//    "planned_files","planned_bytes"}                   totals from the scan
//   {"event":"planned", the same fields}               a remote sync only:
//     its "start" comes as the session starts (the list is streamed, the
//     totals are 0 there); "planned" brings them once the receiver compared
//     the whole list (files may land before it)
//   {"event":"file","path","action","item","bytes"}     one per change
//     (+ "target" for a symlink's target or a hard link's leader)
//   {"event":"error","path","cause","code"}             the rest goes on
//   {"event":"vanished","path"}, {"event":"warning","message"}
// and, written by the caller at the end, StatsJson's {"event":"summary",...}.
// "action" is send (file data), create (dir, symlink, device, special),
// link (hard link), meta (metadata only) or delete; "item" is rsync's
// itemized string; "bytes" the file data landed (0 unless action is send).
// Paths are relative to the transfer root, as -i prints them.
//
// Errors, warnings and vanished files are also passed to `text` (may be null)
// so the usual messages still reach stderr.
//
// Thread safety: the engine serialises SyncEvents calls; SetPass and Flush
// are called between passes. The stream is flushed at least every 100 ms
// while events arrive, and by Flush().
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "engine/transfer/report.h"

namespace ferry::cli {

// The "action" of an itemized change string (see the header comment).
std::string_view ItemAction(std::string_view itemized);

class JsonEvents : public SyncEvents {
 public:
  JsonEvents(std::FILE* out, SyncEvents* text);

  // The source and destination of the pass about to run (for "start").
  void SetPass(std::string src, std::string dst, bool dry_run);
  // Writes one already-serialised JSON object as a line.
  void WriteLine(const std::string& json);
  void Flush();

  void OnChange(const Change& c) override;
  void OnError(const Status& error) override;
  void OnPathError(std::string_view path, const Status& error) override;
  void OnWarning(std::string_view message) override;
  void OnVanished(std::string_view path) override;
  void OnPlanned(const SyncStats& stats) override;

 private:
  std::FILE* out_;
  SyncEvents* text_;
  std::string src_, dst_;
  bool dry_run_ = false;
  bool started_ = false;  // "start" written for this pass (SetPass resets)
  std::chrono::steady_clock::time_point last_flush_;
};

}  // namespace ferry::cli
