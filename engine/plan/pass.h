// RunSyncPass: one pass of a plan's sync step, as the runner runs it:
// lists what changed on the destination since the last pass (the source is
// authoritative, so the pass overwrites it): a local destination is scanned
// against the last manifest, a remote one (before a cutover's final pass)
// is compared by a dry-run push with itemize; records the pass in the state
// database (BeginPass .. EndPass: files, bytes, duration, errors; the
// planned totals as soon as the engine has planned, SetPlanned), runs the
// transfer (RunLeg: in-process, over the remote shell or to a daemon), and
// saves the manifest the destination ended with (for a push to a remote
// end, the source's: what the pass sent). A resumed pass hands the totals
// its cut-off attempt planned to RunOptions::on_pass_start. A dry run
// writes no state.
//
// Thread safety: one call per step at a time; ctx.log must be safe to call
// from the engine's event thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/plan/compile.h"
#include "engine/plan/runner.h"
#include "engine/plan/state.h"
#include "engine/tree/filter.h"

namespace ferry::plan {

struct PassContext {
  const StepGraph& graph;
  StateStore& state;
  const RunOptions& options;
  std::function<void(const std::string&)> log;  // one line at a time
};

// Runs pass `pass_no` of s (s.transfers[0]) with the owner maps `ids` (may
// be null). Fills *result; returns false with *why when the pass failed.
bool RunSyncPass(const PassContext& ctx, const Step& s, std::shared_ptr<const IdMapping> ids,
                 int pass_no, bool resumed, PassRow* result, std::string* why);

// The path set's filter rules as a FilterList (null when there are none).
std::shared_ptr<const FilterList> FilterOf(const Transfer& t);

// "SRC -> DST" as endpoints display them.
std::string TransferText(const Transfer& t);

}  // namespace ferry::plan
