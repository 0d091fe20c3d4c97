#include "engine/plan/runner.h"

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "engine/plan/command.h"
#include "engine/plan/leg.h"
#include "engine/plan/owners.h"
#include "engine/plan/pass.h"
#include "engine/plan/report.h"
#include "engine/plan/values.h"

namespace ferry::plan {
namespace {

class Runner {
 public:
  Runner(const StepGraph& g, const std::string& dir, StateStore& st, const RunOptions& o)
      : g_(g), dir_(dir), st_(st), o_(o) {}

  void Log(const std::string& line) {
    if (!o_.log) return;
    std::lock_guard<std::mutex> l(log_mu_);
    o_.log(line);
  }

  bool Selected(const Step& s) const {
    return s.account.empty() || o_.account.empty() || s.account == o_.account;
  }

  bool Done(const Step& s) {
    auto r = st_.GetStep(s.id);
    return r && r->status == "done";
  }

  Status SetStep(const Step& s, const std::string& status, const std::string& msg = "") {
    if (o_.dry_run) return Status::Ok();
    return st_.SetStep(s.id, s.phase, s.account, status, msg);
  }

  // Passes of the current attempt of a step: those since it was (re)started.
  std::vector<PassRow> CurrentPasses(const Step& s) {
    auto row = st_.GetStep(s.id);
    std::vector<PassRow> out;
    if (!row || row->status != "running") return out;
    for (PassRow& p : st_.Passes(s.id))
      if (p.started >= row->started) out.push_back(std::move(p));
    return out;
  }

  PassContext Context() {
    return PassContext{g_, st_, o_, [this](const std::string& l) { Log(l); }};
  }

  bool RunSync(const Step& s, std::string* why) {
    std::vector<PassRow> cur = CurrentPasses(s);
    (void)SetStep(s, "running");
    int done = 0;
    bool last_resumed = false;
    for (const PassRow& p : cur) done += p.status == "done";
    bool resumed = !cur.empty() && cur.back().status == "interrupted";
    if (!s.repeat) {
      PassRow r;
      return RunSyncPass(Context(), s, IdsFor(s), done + 1, resumed, &r, why);
    }
    std::optional<PassRow> last;
    for (const PassRow& p : cur)
      if (p.status == "done") last = p, last_resumed = p.resumed;
    while (true) {
      if (last && !last_resumed) {
        if (s.until_bytes && last->bytes < *s.until_bytes) {
          Log(s.id + ": pass " + std::to_string(last->pass) + " moved " +
              FormatBytes(last->bytes) + " < " + FormatBytes(*s.until_bytes) + ": done");
          return true;
        }
        if (s.until_ms && last->seconds * 1000 < static_cast<double>(*s.until_ms)) {
          Log(s.id + ": pass " + std::to_string(last->pass) + " took less than " +
              FormatDuration(*s.until_ms) + ": done");
          return true;
        }
      }
      if (done >= s.max_passes) {
        Log(s.id + ": " + std::to_string(done) + " passes (max_passes): done");
        return true;
      }
      PassRow r;
      if (!RunSyncPass(Context(), s, IdsFor(s), done + 1, resumed, &r, why)) return false;
      if (o_.dry_run) return true;  // one pass shows what would move
      ++done;
      last = r;
      last_resumed = resumed;
      resumed = false;
    }
  }

  bool RunHook(const Step& s, std::string* why) {
    std::string where = s.host.name + (s.host.kind == EndpointKind::kSsh
                                           ? " (" + s.host.host + " via " + g_.rsh + ")"
                                           : " (local)");
    if (o_.dry_run) {
      Log(s.id + ": would run on " + where + ": " + s.hook.command);
      return true;
    }
    (void)SetStep(s, "running");
    Log(s.id + ": running on " + where + ": " + s.hook.command);
    CommandSpec c;
    c.command = s.hook.command;
    c.timeout_ms = s.hook.timeout_ms;
    c.rsh = g_.rsh;
    if (s.host.kind == EndpointKind::kSsh) {
      c.user = s.host.user;
      c.host = s.host.host;
    }
    auto r = RunCommand(c);
    if (!r.ok()) return *why = s.id + ": " + r.status().message(), false;
    (void)st_.AddEvent({0, s.id, "hook-output", r->Describe(), r->output});
    Log(s.id + ": " + r->Describe() + " in " + std::to_string(r->seconds).substr(0, 5) + "s");
    if (!r->ok()) {
      std::string tail = r->output;
      while (!tail.empty() && tail.back() == '\n') tail.pop_back();
      size_t nl = tail.rfind('\n');
      if (nl != std::string::npos) tail = tail.substr(nl + 1);
      *why = s.id + ": hook on " + s.host.name + " failed (" + r->Describe() + ")" +
             (tail.empty() ? "" : ": " + tail);
      return false;
    }
    return true;
  }

  bool RunVerify(const Step& s, std::string* why) {
    if (o_.dry_run) {
      Log(s.id + ": would verify " + std::to_string(s.transfers.size()) + " path set(s)");
      return true;
    }
    (void)SetStep(s, "running");
    size_t total = 0;
    uint64_t files = 0;
    std::string first;
    for (const Transfer& t : s.transfers) {
      Transfer mapped = t;
      mapped.ids = IdsFor(s);
      mapped.rsh = g_.rsh;
      mapped.remote_ferry = g_.remote_ferry;
      auto r = o_.verifier(mapped);
      if (!r.ok()) return *why = s.id + ": " + r.status().message(), false;
      files += r->files;
      for (const VerifyDifference& d : r->differences) {
        ++total;
        std::string text = d.what + " " + t.label + "/" + d.path;
        if (first.empty()) first = text;
        (void)st_.AddEvent({0, s.id, "difference", t.label + "/" + d.path, d.what});
        Log(s.id + ": difference: " + text);
      }
    }
    if (total) {
      *why = s.id + ": verification found " + std::to_string(total) +
             " difference(s) between source and destination (first: " + first +
             "); stopped before the switch hooks";
      return false;
    }
    Log(s.id + ": " + std::to_string(files) + " entries identical in content and metadata");
    return true;
  }

  bool RunOne(const Step& s, std::string* why) {
    switch (s.kind) {
      case StepKind::kSync: return RunSync(s, why);
      case StepKind::kHook: return RunHook(s, why);
      case StepKind::kVerify: return RunVerify(s, why);
      case StepKind::kWait:
      case StepKind::kBarrier: return true;
    }
    return true;
  }

  // Runs steps in order; stops at the first failure.
  bool RunChain(const std::vector<const Step*>& chain, std::string* why) {
    for (size_t i = 0; i < chain.size(); ++i) {
      const Step& s = *chain[i];
      // A forced dry run shows the whole phase again; a real forced run
      // has reset the steps already.
      if (!(o_.force && o_.dry_run) && Done(s)) {
        Note(s.id, "already done in an earlier run");
        continue;
      }
      if (!RunOne(s, why)) {
        (void)SetStep(s, "failed", *why);
        for (size_t j = i + 1; j < chain.size(); ++j)
          Note(chain[j]->id, "not run: " + s.id + " failed");
        return false;
      }
      (void)SetStep(s, "done");
    }
    return true;
  }

  void Note(const std::string& id, const std::string& why) {
    std::lock_guard<std::mutex> l(log_mu_);
    skipped_[id] = why;
  }

  double PreviousPhaseFinished(const CompiledPhase& p) {
    double t = 0;
    for (const StepRow& r : st_.AllSteps()) {
      for (const CompiledPhase& q : g_.phases) {
        if (&q == &p) break;
        if (r.phase == q.name && r.status == "done") t = std::max(t, r.finished);
      }
    }
    return t;
  }

  Result<RunSummary> RunPhase(const CompiledPhase& p) {
    std::vector<const Step*> sel;
    for (size_t i = p.first; i < p.end; ++i)
      if (Selected(g_.steps[i]) && g_.steps[i].kind != StepKind::kBarrier)
        sel.push_back(&g_.steps[i]);
    bool all_done = true;
    for (const Step* s : sel) all_done &= Done(*s);
    if (all_done && !o_.force) {
      Log("phase " + p.name + ": already done; nothing to do (--force runs it again)");
      return RunSummary{};
    }
    if (o_.force && !o_.dry_run) {
      std::vector<std::string> ids;
      for (const Step* s : sel) ids.push_back(s->id);
      RETURN_IF_ERROR(st_.ResetSteps(ids));
    }
    double started = NowSeconds();
    Log("phase " + p.name + " (" + PhaseKindName(p.kind) + "): start");
    RunSummary sum;
    std::string why;
    if (p.kind == PhaseKind::kWait) {
      const Step& w = g_.steps[p.first];
      if (!Done(w)) {
        double since = PreviousPhaseFinished(p);
        double left = static_cast<double>(w.min_delay_ms) / 1000.0 - (NowSeconds() - since);
        if (left > 0 && !o_.force) {
          sum.result = RunResult::kWaiting;
          sum.message = "phase " + p.name + ": waiting: " +
                        FormatDuration(static_cast<int64_t>(left * 1000) + 999) +
                        " left of the minimum delay " + FormatDuration(w.min_delay_ms) +
                        "; run again later";
          return sum;
        }
      }
      std::vector<const Step*> chain(sel.begin(), sel.end());
      if (!RunChain(chain, &why)) {
        sum.result = RunResult::kWaiting;
        sum.message = "phase " + p.name + ": a check hook says not yet: " + why;
        (void)st_.ResetSteps({w.id});
        return sum;
      }
    } else {
      // Plan-level hooks before the accounts, accounts side by side, plan-level hooks after.
      std::vector<const Step*> pre, post;
      std::vector<std::string> order;
      std::map<std::string, std::vector<const Step*>> chains;
      for (const Step* s : sel) {
        if (s->account.empty()) {
          (chains.empty() ? pre : post).push_back(s);
        } else {
          if (!chains.count(s->account)) order.push_back(s->account);
          chains[s->account].push_back(s);
        }
      }
      bool ok = RunChain(pre, &why);
      std::vector<std::string> failures;
      if (!ok) failures.push_back(why);
      if (ok) {
        std::atomic<size_t> next{0};
        std::mutex fmu;
        auto worker = [&] {
          for (size_t i; (i = next.fetch_add(1)) < order.size();) {
            std::string w;
            if (!RunChain(chains[order[i]], &w)) {
              std::lock_guard<std::mutex> l(fmu);
              failures.push_back(w);
            }
          }
        };
        size_t n = std::min<size_t>(static_cast<size_t>(g_.concurrency), order.size());
        std::vector<std::thread> threads;
        for (size_t i = 1; i < n; ++i) threads.emplace_back(worker);
        worker();
        for (std::thread& t : threads) t.join();
        if (failures.empty() && !RunChain(post, &why)) failures.push_back(why);
      }
      if (!failures.empty()) {
        sum.result = RunResult::kFailed;
        sum.message = "phase " + p.name + " failed: ";
        for (size_t i = 0; i < failures.size(); ++i)
          sum.message += (i ? "; " : "") + failures[i];
      }
    }
    if (sum.result == RunResult::kDone && o_.account.empty() && !o_.dry_run)
      (void)st_.SetStep(g_.steps[p.end - 1].id, p.name, "", "done", "");
    if (!o_.dry_run) {
      auto paths = WritePhaseReport(g_, p, st_, dir_, o_.account, skipped_, started,
                                    sum.result == RunResult::kDone ? "done" : sum.message);
      if (paths.ok()) Log("phase " + p.name + ": report " + *paths);
      else Log("phase " + p.name + ": could not write the report: " + paths.status().message());
    }
    Log("phase " + p.name + ": " + (sum.result == RunResult::kDone ? "done" : sum.message));
    return sum;
  }

  Result<RunSummary> Run() {
    if (!o_.account.empty()) {
      bool found = false;
      for (const CompiledAccount& a : g_.accounts) found |= a.name == o_.account;
      if (!found) return InvalidArgument("--account " + o_.account + ": no such account in the plan");
    }
    std::vector<const CompiledPhase*> run;
    if (!o_.phase.empty()) {
      const CompiledPhase* p = g_.FindPhase(o_.phase);
      if (!p) {
        std::string names;
        for (const CompiledPhase& q : g_.phases) names += (names.empty() ? "" : ", ") + q.name;
        return InvalidArgument("--phase " + o_.phase + ": no such phase (phases: " + names + ")");
      }
      // Earlier non-manual phases must be done first.
      for (const CompiledPhase& q : g_.phases) {
        if (&q == p) break;
        if (q.manual) continue;
        for (size_t i = q.first; i < q.end; ++i) {
          const Step& s = g_.steps[i];
          if (s.kind != StepKind::kBarrier && Selected(s) && !Done(s))
            return Status(ErrorCode::kInvalidArgument,
                          "--phase " + o_.phase + ": phase " + q.name +
                              " must be done first (step " + s.id + " is not)");
        }
      }
      run.push_back(p);
    } else {
      for (const CompiledPhase& q : g_.phases)
        if (!q.manual) run.push_back(&q);
    }
    // Legs over ssh that the remote sync cannot do yet stop the run before
    // anything runs (`plan check` warned about them).
    RETURN_IF_ERROR(RefuseRemoteGaps(run));
    // Every account's TO names are looked up on the destination now: an
    // unknown one stops the run before anything is copied.
    for (const CompiledAccount& a : g_.accounts) {
      if (a.usermap.empty() && a.groupmap.empty()) continue;
      if (!o_.account.empty() && o_.account != a.name) continue;
      auto ids = BindAccountIds(a);
      if (!ids.ok())
        return Status(ids.status().code(), "account " + a.name + ": " + ids.status().message());
      ids_[a.name] = *ids;
    }
    if (!o_.dry_run) {
      ASSIGN_OR_RETURN(int cut, st_.MarkInterrupted());
      if (cut) Log("resuming: " + std::to_string(cut) + " pass(es) were cut off by an earlier run");
    }
    // A rollback syncs DST back to SRC with the inverse maps; a map without
    // one (a wildcard, a range, two names onto one) stops the run before
    // anything runs rather than give SRC the wrong owners.
    for (const CompiledPhase* p : run) {
      if (p->kind != PhaseKind::kRollback || p->leg == Leg::kOut) continue;
      for (const CompiledAccount& a : g_.accounts) {
        if (!ids_.count(a.name)) continue;
        auto inv = BindRollbackIds(a);
        if (!inv.ok())
          return Status(inv.status().code(),
                        "phase " + p->name + ": account " + a.name +
                            ": a rollback cannot map owners back to the source: " +
                            inv.status().message());
        rollback_ids_[a.name] = *inv;
      }
    }
    RunSummary last;
    for (const CompiledPhase* p : run) {
      ASSIGN_OR_RETURN(last, RunPhase(*p));
      if (last.result != RunResult::kDone) return last;
    }
    return last;
  }

 private:
  Status RefuseRemoteGaps(const std::vector<const CompiledPhase*>& run) const {
    if (o_.dry_run) return Status::Ok();  // a dry run shows them as not shown
    for (const CompiledPhase* p : run) {
      for (size_t i = p->first; i < p->end; ++i) {
        const Step& s = g_.steps[i];
        if (s.kind != StepKind::kSync || !Selected(s)) continue;
        const Transfer& t = s.transfers[0];
        LegOptions lo;
        lo.filter = FilterOf(t);
        for (const CompiledAccount& a : g_.accounts)
          if (a.name == s.account && p->leg != Leg::kOut &&
              (!a.usermap.empty() || !a.groupmap.empty()))
            lo.ids = std::make_shared<IdMapping>();  // not bound yet: "has a map"
        if (std::string why = RemoteLegRefusal(t, lo); !why.empty())
          return Status(ErrorCode::kUnsupported,
                        "phase " + p->name + ": account " + s.account + ": " + why);
      }
    }
    return Status::Ok();
  }

  // The account's maps for a sync or verify step: the legs that land on the
  // account's destination (direct and transit-back); the out leg parks the
  // files on the transit server with their source ids; a rollback (of a
  // direct or back leg) maps them back with the inverse.
  std::shared_ptr<const IdMapping> IdsFor(const Step& s) const {
    const CompiledPhase* p = g_.FindPhase(s.phase);
    if (p && p->leg == Leg::kOut) return nullptr;
    const auto& from = p && p->kind == PhaseKind::kRollback ? rollback_ids_ : ids_;
    auto it = from.find(s.account);
    return it == from.end() ? nullptr : it->second;
  }

  const StepGraph& g_;
  std::string dir_;
  StateStore& st_;
  const RunOptions& o_;
  std::mutex log_mu_;
  std::map<std::string, std::string> skipped_;
  std::map<std::string, std::shared_ptr<const IdMapping>> ids_;  // by account
  std::map<std::string, std::shared_ptr<const IdMapping>> rollback_ids_;  // inverses
};

}  // namespace

Result<RunSummary> RunPlan(const StepGraph& g, const std::string& state_dir, StateStore& state,
                           const RunOptions& opt) {
  return Runner(g, state_dir, state, opt).Run();
}

}  // namespace ferry::plan
