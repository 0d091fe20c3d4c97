// The one-page report of a phase run: what moved, what was skipped and why,
// errors by path, paths changed on the destination, verification
// differences, hook results and durations. Written as STATE_DIR/reports/
// PHASE.txt (for people) and PHASE.json (for scripts), replacing the report
// of the phase's previous run.
//
// Thread safety: call from one thread; reads the state store.
#pragma once

#include <map>
#include <string>

#include "engine/base/status.h"
#include "engine/plan/compile.h"
#include "engine/plan/state.h"

namespace ferry::plan {

// account: the --account filter (empty: all). skipped: step id -> why it
// did not run in this run. run_started: events and passes from before it
// belong to earlier runs. result: "done" or the failure message.
// Returns the text report's path.
Result<std::string> WritePhaseReport(const StepGraph& g, const CompiledPhase& p,
                                     StateStore& st, const std::string& state_dir,
                                     const std::string& account,
                                     const std::map<std::string, std::string>& skipped,
                                     double run_started, const std::string& result);

}  // namespace ferry::plan
