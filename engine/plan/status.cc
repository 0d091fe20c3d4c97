// `ferry plan status` and the predictions of `ferry plan show`: read-only
// views of the state store.
#include <algorithm>
#include <cstdio>
#include <map>

#include "engine/plan/runner.h"
#include "engine/plan/values.h"

namespace ferry::plan {
namespace {

std::string Secs(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2fs", s);
  return b;
}

}  // namespace

std::string FormatStatus(const StepGraph& g, StateStore& st) {
  std::map<std::string, StepRow> rows;
  for (StepRow& r : st.AllSteps()) rows[r.id] = r;
  std::string out;
  for (const CompiledPhase& p : g.phases) {
    size_t n = 0, done = 0, failed = 0, running = 0;
    for (size_t i = p.first; i < p.end; ++i) {
      const Step& s = g.steps[i];
      if (s.kind == StepKind::kBarrier) continue;
      ++n;
      auto it = rows.find(s.id);
      if (it == rows.end()) continue;
      done += it->second.status == "done";
      failed += it->second.status == "failed";
      running += it->second.status == "running";
    }
    std::string state = failed ? "failed" : running ? "interrupted (resumes on the next run)"
                        : done == n ? "done" : done ? "partly done" : "pending";
    out += "phase " + p.name + " (" + PhaseKindName(p.kind) + (p.manual ? ", manual" : "") +
           "): " + state + ", " + std::to_string(done) + "/" + std::to_string(n) +
           " steps done\n";
    for (size_t i = p.first; i < p.end; ++i) {
      const Step& s = g.steps[i];
      if (s.kind == StepKind::kBarrier) continue;
      auto it = rows.find(s.id);
      std::string line = "  " + s.id + ": " + (it == rows.end() ? "pending" : it->second.status);
      if (it != rows.end() && !it->second.message.empty()) line += ": " + it->second.message;
      std::vector<PassRow> passes = st.Passes(s.id);
      if (!passes.empty()) {
        const PassRow& l = passes.back();
        line += " (last pass " + std::to_string(l.pass) + " " + l.status + ": " +
                std::to_string(l.files) + " files, " + FormatBytes(l.bytes) + ", " +
                Secs(l.seconds) + ")";
      }
      out += line + "\n";
    }
  }
  return out;
}

std::string FormatPredictions(const StepGraph& g, StateStore& st) {
  std::vector<PassRow> all = st.AllPasses();
  if (all.empty()) return "";
  // The newest finished pass into each destination and the copy rate seen.
  std::map<std::string, PassRow> last;
  double bytes = 0, secs = 0;
  for (const PassRow& p : all) {
    if (p.status != "done") continue;
    last[p.dst] = p;
    bytes += static_cast<double>(p.scanned_bytes);
    secs += p.seconds;
  }
  std::map<std::string, double> step_secs;
  for (const StepRow& r : st.AllSteps())
    if (r.status == "done" && r.finished >= r.started && r.started > 0)
      step_secs[r.id] = r.finished - r.started;
  std::string out = "predictions from the measured history:\n";
  for (const CompiledPhase& p : g.phases) {
    if (p.kind != PhaseKind::kDelta) continue;
    for (size_t i = p.first; i < p.end; ++i) {
      const Step& s = g.steps[i];
      if (s.kind != StepKind::kSync) continue;
      auto it = last.find(EndpointDisplay(s.transfers[0].dst, s.transfers[0].dst_path));
      if (it == last.end()) continue;
      out += "  next pass of " + s.id + ": ~" + Secs(it->second.seconds) + " (last pass " +
             it->second.step + " #" + std::to_string(it->second.pass) + ": " +
             std::to_string(it->second.files) + " files, " + FormatBytes(it->second.bytes) +
             ")\n";
    }
  }
  // Cutover downtime: from the freeze hook to the switch, per account.
  double rate = secs > 0 ? bytes / secs : 0;  // bytes scanned per second in passes
  for (const CompiledPhase& p : g.phases) {
    if (p.kind != PhaseKind::kCutover) continue;
    std::map<std::string, double> per_account;
    std::map<std::string, bool> known;
    for (size_t i = p.first; i < p.end; ++i) {
      const Step& s = g.steps[i];
      if (s.account.empty()) continue;
      double& d = per_account[s.account];
      if (s.kind == StepKind::kSync) {
        auto it = last.find(EndpointDisplay(s.transfers[0].dst, s.transfers[0].dst_path));
        if (it != last.end()) d += it->second.seconds, known[s.account] = true;
      } else if (s.kind == StepKind::kVerify) {
        auto m = step_secs.find(s.id);
        if (m != step_secs.end()) {
          d += m->second;
        } else if (rate > 0) {
          for (const Transfer& t : s.transfers) {
            auto it = last.find(EndpointDisplay(t.dst, t.dst_path));
            if (it != last.end()) d += static_cast<double>(it->second.scanned_bytes) / rate;
          }
        }
      } else if (s.kind == StepKind::kHook) {
        auto m = step_secs.find(s.id);
        if (m != step_secs.end()) d += m->second;
      }
    }
    double total = 0;
    std::vector<double> ds;
    for (auto& [a, d] : per_account) {
      if (!known[a]) continue;
      out += "  cutover downtime of " + a + " in " + p.name + ": ~" + Secs(d) +
             " (freeze hooks + final pass + verify + switch hooks)\n";
      ds.push_back(d);
      total += d;
    }
    if (ds.size() > 1) {
      // Accounts run `concurrency` at a time; the plan's downtime is at
      // least the longest account and about the sum spread over the slots.
      double longest = *std::max_element(ds.begin(), ds.end());
      double spread = total / std::min<double>(g.concurrency, static_cast<double>(ds.size()));
      out += "  cutover " + p.name + " for all accounts: ~" + Secs(std::max(longest, spread)) +
             "\n";
    }
  }
  return out;
}

}  // namespace ferry::plan
