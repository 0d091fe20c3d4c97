// StateStore: a plan's run state in SQLite (STATE_DIR/state.db): each
// step's status, each pass's counters and the manifest it ended with, and
// the events worth a report (errors by path, paths changed on the
// destination, verification differences, hook output).
//
// Durability: every call is its own transaction (WAL journal), so a runner
// killed with SIGKILL leaves the state of the last completed call. A pass
// still marked "running" when a runner starts was cut off: the runner marks
// it "interrupted" (MarkInterrupted) and continues the step.
//
// Thread safety: all methods may be called from several threads; calls are
// serialised on one connection.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/plan/manifest.h"

struct sqlite3;

namespace ferry::plan {

struct StepRow {
  std::string id, phase, account;
  std::string status;  // "running", "done", "failed"
  std::string message;
  double started = 0, finished = 0;  // unix seconds
};

struct PassRow {
  int64_t id = 0;
  std::string step, phase, account, dst;
  int pass = 0;
  std::string status;  // "running", "done", "failed", "interrupted"
  bool resumed = false;
  double started = 0, seconds = 0;
  uint64_t files = 0, bytes = 0;          // transferred
  uint64_t scanned = 0, scanned_bytes = 0;  // regular source files seen
  uint64_t deleted = 0, errors = 0, dst_changed = 0;
  // What the engine planned to move (regular files and their bytes), stored
  // as soon as planning finishes (SetPlanned), so a pass cut off later
  // still tells its resumption the totals. 0: not known.
  uint64_t planned_files = 0, planned_bytes = 0;
};

struct EventRow {
  int64_t pass = 0;
  std::string step, kind, path, message;
  double at = 0;  // stamped by AddEvent
};

class StateStore {
 public:
  // Opens (creating when needed) STATE_DIR/state.db.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& state_dir);
  ~StateStore();

  std::optional<StepRow> GetStep(const std::string& id);
  std::vector<StepRow> AllSteps();
  // Sets status and message; "running" from another status stamps started,
  // "done"/"failed" stamp finished.
  Status SetStep(const std::string& id, const std::string& phase, const std::string& account,
                 const std::string& status, const std::string& message);
  // Forgets the status of these steps (--force); pass history stays.
  Status ResetSteps(const std::vector<std::string>& ids);

  Result<int64_t> BeginPass(const PassRow& p);
  Status EndPass(const PassRow& p);  // by p.id
  Status SetPlanned(int64_t pass, uint64_t files, uint64_t bytes);
  // running -> interrupted; returns how many passes were cut off.
  Result<int> MarkInterrupted();
  std::vector<PassRow> Passes(const std::string& step);  // oldest first
  std::vector<PassRow> AllPasses();

  Status SaveManifest(int64_t pass, const std::vector<ManifestEntry>& m);
  // The manifest of the newest finished pass that landed in dst; nullopt
  // when there is none.
  std::optional<std::vector<ManifestEntry>> LastManifest(const std::string& dst);

  Status AddEvent(const EventRow& e);
  // kind: "error", "dst-changed", "difference", "hook-output".
  std::vector<EventRow> Events(const std::string& step, double since = 0);

 private:
  StateStore() = default;
  Status Exec(const std::string& sql);
  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

double NowSeconds();

}  // namespace ferry::plan
