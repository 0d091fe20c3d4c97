// CompilePlan: a parsed Plan -> the step graph the runner executes and
// `ferry plan show` prints. No I/O: it only reads the value it is given.
//
// Shape of the graph (PLAN_FORMAT.md, "The compiled graph"): phases run in
// file order and each ends with a barrier step "<phase>/end"; within a phase
// every account is a chain of steps (hooks, one sync per path set, verify)
// and accounts run side by side up to `concurrency`. A phase's first steps
// depend on the end of the previous phase that is not manual (a manual
// phase, such as rollback, depends on the phase before it but nothing
// depends on it).
//
// Reference and ordering checks happen here: unknown endpoints and phases,
// hooks in a slot their phase does not have, duplicate names, legs without a
// transit endpoint, phases in an impossible order (delta after cutover,
// rollback without a cutover before it, ...), a sync between two ssh ends.
// All are reported at once. What the runner will stop on without making the
// plan invalid would be a warning in StepGraph::warnings (none today: a
// cutover's verification reaches ssh and daemon ends, owner maps included).
// Thread safety: a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/plan/plan.h"
#include "engine/tree/id_map.h"

namespace ferry::plan {

enum class StepKind { kSync, kHook, kWait, kVerify, kBarrier };

// One directory tree to move: src_path's contents land in dst_path (both
// end in '/': rsync's "copy the contents" form).
struct Transfer {
  Endpoint src, dst;
  std::string src_path, dst_path;  // endpoint path joined with the path set
  PathKind kind = PathKind::kFiles;
  std::vector<std::string> filter;  // rsync rule text
  std::string label;                // the path set as written ("home/alice")
  // The account's usermap/groupmap, bound against the destination; set by the
  // runner (not the compiler) for the legs that map owners. Null: ids kept.
  std::shared_ptr<const IdMapping> ids;
  // The plan's remote shell and remote ferry command, for a verify of an ssh
  // end; set by the runner with `ids`.
  std::string rsh = "ssh", remote_ferry = "ferry";
};

struct Step {
  std::string id;       // unique: "<phase>/<account>/<what>" or "<phase>/<what>"
  std::string phase;
  std::string account;  // empty for plan-level steps
  StepKind kind = StepKind::kBarrier;
  // kSync: one transfer; kVerify: every path set of the account.
  std::vector<Transfer> transfers;
  bool del = false;        // --delete (cutover and rollback passes)
  bool repeat = false;     // delta: passes until a threshold is met
  bool final_pass = false; // cutover: report DST changes before overwriting
  std::optional<uint64_t> until_bytes;
  std::optional<int64_t> until_ms;
  int max_passes = 1;
  // kHook
  Hook hook;
  Endpoint host;
  // kWait
  int64_t min_delay_ms = 0;
  std::vector<size_t> deps;  // indices of steps that must finish first
};

struct CompiledPhase {
  std::string name;
  PhaseKind kind = PhaseKind::kStageOne;
  Leg leg = Leg::kDirect;
  bool manual = false;
  size_t first = 0, end = 0;  // its steps are [first, end); the last is the barrier
};

struct CompiledAccount {
  std::string name;
  std::vector<IdMapRule> usermap, groupmap;
};

struct StepGraph {
  std::string name;
  std::string state_dir;  // as written in the plan (may be empty)
  std::string rsh;
  std::string remote_ferry = "ferry";
  int concurrency = 1;
  std::vector<CompiledAccount> accounts;
  std::vector<CompiledPhase> phases;
  std::vector<Step> steps;
  // "warning: ..." diagnostics: what the runner will stop on although the
  // plan is valid (none are produced today; kept for `plan check`'s
  // output). `plan check` prints them; they do not make the plan invalid.
  std::vector<Diagnostic> warnings;

  const CompiledPhase* FindPhase(const std::string& name) const;
};

// Appends problems to *diags (positions from the plan). The graph is
// meaningful only when no diagnostic was added.
StepGraph CompilePlan(const Plan& plan, std::vector<Diagnostic>* diags);

// "[user@]host:path", "ferry://host:port/module/path" or the local path.
std::string EndpointDisplay(const Endpoint& e, const std::string& path);

// One line per step: id, account, kind and what it does, host, order:
//   stage-one/alice/sync.1  account=alice  sync /old/a/ -> /new/a/ [files]  host=local  after=...
std::string FormatGraph(const StepGraph& g);
std::string FormatStep(const StepGraph& g, const Step& s);

}  // namespace ferry::plan
