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
// Files: runner.cc (phases, chains, hooks, verification), pass.cc (one sync
// pass and its state), leg.cc (local or ssh transfer), owners.cc (owner
// maps and their inverse), state_dir.cc (state directory and its lock).
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
#include "engine/plan/state_dir.h"
#include "engine/plan/verify.h"
#include "engine/transfer/report.h"

namespace ferry::plan {

struct RunOptions {
  std::string phase;    // empty: every non-manual phase in order
  std::string account;  // empty: every account
  bool force = false;   // run finished phases again
  bool dry_run = false; // run nothing for real: show what would move and
                        // what changed on the destination; no state written
  bool itemize = false; // log each itemized change
  Verifier verifier = CutoverVerifier;  // tests inject their own
  std::function<void(std::string_view)> log;  // one line at a time; may be null
  // Called for each itemized change of a sync pass (step id, rsync item,
  // path), serialised per pass; may be null. Tests stop a runner mid-pass
  // with it (a hook that blocks stalls the pass).
  std::function<void(std::string_view step, std::string_view item, std::string_view path)>
      on_item;
  // A sync pass starts and ends (not in a dry run); may be null. `stats` are
  // the pass's live counters, valid until on_pass_end for the same step. A
  // resumed pass carries the totals its cut-off attempt had planned
  // (seed_*; 0: not known), so a progress display can show the whole pass
  // and an ETA from the start. `plan run --progress` draws them.
  struct PassStart {
    std::string step;
    const SyncStats* stats = nullptr;
    bool resumed = false;
    uint64_t seed_files = 0, seed_bytes = 0;
  };
  std::function<void(const PassStart&)> on_pass_start;
  std::function<void(std::string_view step)> on_pass_end;
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
