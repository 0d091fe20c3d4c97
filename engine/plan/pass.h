// RunSyncPass: one pass of a plan's sync step, as the runner runs it:
// lists what changed on a local destination since the last pass (the source
// is authoritative, so the pass overwrites it), records the pass in the
// state database (BeginPass .. EndPass: files, bytes, duration, errors),
// runs the transfer (RunLeg: in-process or over the remote shell), and saves
// the manifest the destination ended with (for a push to an ssh end, the
// source's: what the pass sent). A dry run writes no state.
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
