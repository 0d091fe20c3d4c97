// `ferry plan check|show|run|status FILE`: migration plans (engine/plan,
// format in engine/plan/PLAN_FORMAT.md). Reads the plan file, has the
// engine parse, compile and run it, and renders the results.
//
// Exit codes: 0 success; 1 usage error or an invalid plan (every problem
// printed as FILE:LINE:COL: message); 2 the state directory is locked by
// another runner; 3 a wait phase is not over yet (run again later); 4 a
// step failed (the message says which and why; cutover stops before the
// switch); 5 the state cannot be read or written.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/render.h"
#include "engine/plan/compile.h"
#include "engine/plan/parse.h"
#include "engine/plan/runner.h"

namespace ferry::cli {
namespace {

constexpr int kExitInvalid = 1;
constexpr int kExitLocked = 2;
constexpr int kExitWaiting = 3;
constexpr int kExitFailed = 4;
constexpr int kExitState = 5;

struct PlanFlags {
  std::string file;
  std::string phase, account;
  bool force = false, dry_run = false, itemize = false, progress = false;
};

// Reads, parses and compiles FILE; prints every problem and returns false
// when there is one.
bool Load(const std::string& file, plan::StepGraph* g) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "ferry plan: open %s: %s\n", file.c_str(), std::strerror(errno));
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<plan::Diagnostic> diags;
  plan::Plan p = plan::ParsePlan(ss.str(), file, &diags);
  if (diags.empty()) *g = plan::CompilePlan(p, &diags);
  std::stable_sort(diags.begin(), diags.end(), [](const auto& a, const auto& b) {
    return std::pair(a.pos.line, a.pos.column) < std::pair(b.pos.line, b.pos.column);
  });
  for (const plan::Diagnostic& d : diags) std::fprintf(stderr, "%s\n", d.ToString().c_str());
  if (diags.empty())
    for (const plan::Diagnostic& w : g->warnings) std::fprintf(stderr, "%s\n", w.ToString().c_str());
  if (!diags.empty())
    std::fprintf(stderr, "ferry plan: %s: %zu error(s)\n", file.c_str(), diags.size());
  return diags.empty();
}

bool HaveState(const std::string& dir) {
  struct stat st;
  return ::stat((dir + "/state.db").c_str(), &st) == 0;
}

int Check(const PlanFlags& f) {
  plan::StepGraph g;
  if (!Load(f.file, &g)) return kExitInvalid;
  std::printf("%s: OK: %zu account(s), %zu phase(s), %zu steps\n", f.file.c_str(),
              g.accounts.size(), g.phases.size(), g.steps.size());
  return 0;
}

int Show(const PlanFlags& f) {
  plan::StepGraph g;
  if (!Load(f.file, &g)) return kExitInvalid;
  std::fputs(plan::FormatGraph(g).c_str(), stdout);
  std::string dir = plan::StateDirFor(f.file, g);
  if (HaveState(dir)) {
    auto st = plan::StateStore::Open(dir);
    if (!st.ok()) {
      std::fprintf(stderr, "ferry plan: %s\n", st.status().message().c_str());
      return kExitState;
    }
    std::fputs(plan::FormatPredictions(g, **st).c_str(), stdout);
  }
  return 0;
}

int Status(const PlanFlags& f) {
  plan::StepGraph g;
  if (!Load(f.file, &g)) return kExitInvalid;
  std::string dir = plan::StateDirFor(f.file, g);
  if (!HaveState(dir)) {
    std::printf("%s: never run (no state in %s)\n", f.file.c_str(), dir.c_str());
    return 0;
  }
  auto st = plan::StateStore::Open(dir);
  if (!st.ok()) {
    std::fprintf(stderr, "ferry plan: %s\n", st.status().message().c_str());
    return kExitState;
  }
  std::printf("state: %s\n", dir.c_str());
  std::fputs(plan::FormatStatus(g, **st).c_str(), stdout);
  std::fputs(plan::FormatPredictions(g, **st).c_str(), stdout);
  return 0;
}

int Run(const PlanFlags& f) {
  plan::StepGraph g;
  if (!Load(f.file, &g)) return kExitInvalid;
  std::string dir = plan::StateDirFor(f.file, g);
  auto lock = plan::LockStateDir(dir);
  if (!lock.ok()) {
    std::fprintf(stderr, "ferry plan run: %s\n", lock.status().message().c_str());
    return lock.status().code() == ErrorCode::kExists ? kExitLocked : kExitState;
  }
  auto st = plan::StateStore::Open(dir);
  if (!st.ok()) {
    std::fprintf(stderr, "ferry plan run: %s\n", st.status().message().c_str());
    return kExitState;
  }
  plan::RunOptions o;
  o.phase = f.phase;
  o.account = f.account;
  o.force = f.force;
  o.dry_run = f.dry_run;
  o.itemize = f.itemize;
  o.log = [](std::string_view line) {
    std::fprintf(stdout, "%.*s\n", static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
  };
  // --progress: a line per running pass on stderr (whole lines when several
  // passes run side by side or stderr is not a terminal).
  std::mutex progress_mu;
  std::map<std::string, std::unique_ptr<ProgressLine>> lines;
  if (f.progress) {
    const bool terminal = ::isatty(STDERR_FILENO) && g.concurrency == 1;
    o.on_pass_start = [&, terminal](const plan::RunOptions::PassStart& p) {
      auto line = std::make_unique<ProgressLine>(*p.stats, p.step, terminal);
      line->Seed(p.seed_files, p.seed_bytes);
      line->Start();
      std::lock_guard<std::mutex> l(progress_mu);
      lines[p.step] = std::move(line);
    };
    o.on_pass_end = [&](std::string_view step) {
      std::unique_ptr<ProgressLine> line;
      {
        std::lock_guard<std::mutex> l(progress_mu);
        auto it = lines.find(std::string(step));
        if (it == lines.end()) return;
        line = std::move(it->second);
        lines.erase(it);
      }
      line->Stop();
    };
  }
  auto r = plan::RunPlan(g, dir, **st, o);
  if (!r.ok()) {
    std::fprintf(stderr, "ferry plan run: %s\n", r.status().message().c_str());
    return r.status().code() == ErrorCode::kIo ? kExitState : kExitInvalid;
  }
  switch (r->result) {
    case plan::RunResult::kDone: return 0;
    case plan::RunResult::kWaiting:
      std::fprintf(stderr, "ferry plan run: %s\n", r->message.c_str());
      return kExitWaiting;
    case plan::RunResult::kFailed:
      std::fprintf(stderr, "ferry plan run: %s\n", r->message.c_str());
      return kExitFailed;
  }
  return 0;
}

}  // namespace

void AddPlanCommand(CLI::App& app, int* exit_code) {
  CLI::App* plan = app.add_subcommand("plan", "Check, show and run migration plans (TOML)");
  plan->require_subcommand(1);
  plan->footer(
      "A plan (format: engine/plan/PLAN_FORMAT.md) names endpoints, accounts and\n"
      "phases; state, lock and reports live in its state_dir (default FILE.state).\n"
      "\n"
      "Examples:\n"
      "  ferry plan check plan.toml     # every error as FILE:LINE:COL: message\n"
      "  ferry plan show plan.toml      # the compiled step graph (+ predictions)\n"
      "  ferry plan run plan.toml       # resumable after kill -9\n"
      "  ferry plan status plan.toml\n"
      "\n"
      "Exit codes: 0 done; 1 invalid plan or arguments; 2 locked by another runner;\n"
      "3 waiting (run again later); 4 a step failed; 5 state error. See ferry(1).");
  auto flags = std::make_shared<PlanFlags>();
  auto add = [&](const char* name, const char* help, const char* example,
                 int (*fn)(const PlanFlags&)) {
    CLI::App* c = plan->add_subcommand(name, help);
    c->footer(example);
    c->add_option("FILE", flags->file, "the plan file")->required();
    c->callback([flags, exit_code, fn] { *exit_code = fn(*flags); });
    return c;
  };
  add("check", "Report every error in a plan with file:line:column",
      "Example:\n  ferry plan check plan.toml   # exit 1 and FILE:LINE:COL: message per error",
      Check);
  add("show", "Print the compiled step graph (and predictions once passes ran)",
      "Example:\n  ferry plan show plan.toml | grep '^cutover/'", Show);
  add("status", "Print what is done, running and failed",
      "Example:\n  ferry plan status plan.toml", Status);
  CLI::App* run = add("run", "Run the plan's phases (resumes where a run stopped)",
                      "Examples:\n"
                      "  ferry plan run plan.toml                  # every non-manual phase\n"
                      "  ferry plan run plan.toml --phase cutover -n -i\n"
                      "  ferry plan run plan.toml --phase rollback # manual phases by name\n"
                      "Exit codes: 0 done, 1 invalid, 2 locked, 3 waiting, 4 step failed, 5 state.",
                      Run);
  run->add_option("--phase", flags->phase, "run only this phase (manual phases need it)");
  run->add_option("--account", flags->account, "run only this account");
  run->add_flag("--force", flags->force, "run a finished phase again (and skip a wait's delay)");
  run->add_flag("-n,--dry-run", flags->dry_run,
                "change nothing: show what would move and what changed on the destination");
  run->add_flag("-i,--itemize-changes", flags->itemize, "print each change as rsync -i does");
  run->add_flag("--progress", flags->progress,
                "show each pass's progress on stderr (a resumed pass: of the cut-off "
                "attempt's totals)");
}

}  // namespace ferry::cli
