// The plan runner: executes a compiled StepGraph against its state
// directory (`ferry plan run`), and reads that state back (`ferry plan
// status`, the predictions of `ferry plan show`).
//
// Semantics (PLAN_FORMAT.md, "Running a plan"):
//  * Phases run in order; a phase is done when all its (selected) steps are
//    done. Done steps are never redone; a finished phase is a no-op unless
//    force. Manual phases (rollback) run only when named.
//  * Within a phase, accounts run side by side (graph.concurrency), each as
//    a chain; a failed step stops its account's chain, the phase fails, and
//    the run stops after the phase (other accounts finish their chains).
//  * A step cut off by a kill resumes: a sync step starts a new pass marked
//    "resumed", which skips the files that landed (size+mtime); files land
//    under temporary names and are renamed only when complete, so nothing
//    half-landed looks done. A hook cut off runs again: hooks must be safe
//    to repeat.
//  * Each pass runs through RunLeg (leg.h): local endpoints in-process
//    (RunLocalSync), an ssh end through ferry's remote sync over the plan's
//    rsh with its remote_ferry; what that cannot do (filters, owner maps,
//    dry runs, daemon ends) fails the step with a message naming the
//    account and field. Hooks on ssh endpoints run through the plan's rsh.
//  * A destination reached over ssh is not scanned: changes made there are
//    overwritten without being listed, and the manifest recorded for a push
//    is the source's (what the pass sent).
//  * Every phase run (not a dry run) writes STATE_DIR/reports/PHASE.txt and
//    PHASE.json.
//
// Test seam: FERRY_TEST_STALL_AFTER_FILES=N in the environment makes a sync
// pass stop making progress after N files landed (it prints "ferry: test
// stall" on stderr and sleeps), so tests can kill a runner mid-pass.
//
// Thread safety: one RunPlan per state directory at a time (LockStateDir).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/plan/compile.h"
#include "engine/plan/state.h"
#include "engine/plan/verify.h"

namespace ferry::plan {

// The state directory: the plan's state_dir (relative to the plan file's
// directory) or, by default, "PLANFILE.state" next to the plan.
std::string StateDirFor(const std::string& plan_path, const StepGraph& g);

// An exclusive lock on a state directory, held while the object lives.
class StateLock {
 public:
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  friend Result<std::unique_ptr<StateLock>> LockStateDir(const std::string& dir);
  StateLock() = default;
  int fd_ = -1;
};

// Creates dir if needed and takes flock(dir/lock). Errors: kExists with
// "another ferry plan run (pid N) holds DIR/lock; wait for it to finish"
// when another process holds it.
Result<std::unique_ptr<StateLock>> LockStateDir(const std::string& dir);

struct RunOptions {
  std::string phase;    // empty: every non-manual phase in order
  std::string account;  // empty: every account
  bool force = false;   // run finished phases again
  bool dry_run = false; // run nothing for real: show what would move and
                        // what changed on the destination; no state written
  bool itemize = false; // log each itemized change
  Verifier verifier = CutoverVerifier;  // tests inject their own
  std::function<void(std::string_view)> log;  // one line at a time; may be null
};

enum class RunResult { kDone, kFailed, kWaiting };

struct RunSummary {
  RunResult result = RunResult::kDone;
  std::string message;  // why it failed or what it waits for
};

// Runs the selected phases. The caller holds the lock. Returns a Status only
// for bad arguments (unknown phase or account) or a broken state database.
Result<RunSummary> RunPlan(const StepGraph& g, const std::string& state_dir, StateStore& state,
                           const RunOptions& opt);

// `ferry plan status`: per phase and step, what is done, running, failed.
std::string FormatStatus(const StepGraph& g, StateStore& state);

// Predicted duration of each next delta pass and of each account's cutover
// downtime, from the measured history; empty when nothing ran yet.
std::string FormatPredictions(const StepGraph& g, StateStore& state);

}  // namespace ferry::plan
