#include "engine/plan/compile.h"

#include <map>
#include <set>

#include "engine/plan/values.h"

namespace ferry::plan {
namespace {

// Hook slots each phase kind offers, in the order they run.
std::vector<std::string> AccountSlots(PhaseKind k) {
  switch (k) {
    case PhaseKind::kStageOne:
    case PhaseKind::kDelta: return {"before", "after"};
    case PhaseKind::kCutover: return {"freeze", "after-sync", "switch"};
    case PhaseKind::kRollback: return {"before", "reactivate"};
    case PhaseKind::kWait: return {};
  }
  return {};
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string JoinPath(const std::string& base, const std::string& rel) {
  std::string out = base;
  if (!rel.empty()) {
    if (out.empty() || out.back() != '/') out += '/';
    out += rel;
  }
  if (out.empty() || out.back() != '/') out += '/';
  return out;
}

class Compiler {
 public:
  Compiler(const Plan& p, std::vector<Diagnostic>* d) : plan_(p), diags_(d) {}

  void Error(SourcePos pos, std::string msg) {
    diags_->push_back(Diagnostic{plan_.file, pos, std::move(msg)});
  }

  std::string PhaseNames() const {
    std::vector<std::string> v;
    for (const Phase& p : plan_.phases) v.push_back(p.name);
    return Join(v);
  }

  void CheckNames() {
    std::map<std::string, SourcePos> seen;
    for (const Phase& p : plan_.phases) {
      if (p.name.empty()) continue;
      auto [it, fresh] = seen.emplace(p.name, p.pos);
      if (!fresh)
        Error(p.pos, "duplicate phase name \"" + p.name + "\" (first at line " +
                         std::to_string(it->second.line) + "); give each phase a distinct 'name'");
    }
    seen.clear();
    for (const Account& a : plan_.accounts) {
      if (a.name.empty()) continue;
      auto [it, fresh] = seen.emplace(a.name, a.pos);
      if (!fresh)
        Error(a.pos, "duplicate account \"" + a.name + "\" (first at line " +
                         std::to_string(it->second.line) + ")");
    }
  }

  void CheckEndpointRef(const std::string& name, SourcePos pos, const char* role) {
    if (name.empty()) return;
    if (!plan_.FindEndpoint(name)) {
      std::vector<std::string> names;
      for (const Endpoint& e : plan_.endpoints) names.push_back(e.name);
      Error(pos, "account " + std::string(role) + " \"" + name +
                     "\" is not an endpoint (defined: " + (names.empty() ? "none" : Join(names)) +
                     ")");
    }
  }

  // Ordering rules between phases of the same leg.
  void CheckOrder() {
    bool any_transit = false;
    for (const Account& a : plan_.accounts) any_transit |= !a.transit.empty();
    std::map<Leg, bool> cut;
    std::map<Leg, bool> staged;
    bool seen_non_wait = false;
    for (const Phase& p : plan_.phases) {
      if (p.leg != Leg::kDirect && !any_transit)
        Error(p.pos, "phase \"" + p.name + "\" has leg '" + LegName(p.leg) +
                         "' but no account names a 'transit' endpoint");
      switch (p.kind) {
        case PhaseKind::kWait:
          if (!seen_non_wait)
            Error(p.pos, "wait phase \"" + p.name +
                             "\" comes first: a wait must follow the phase it waits after");
          break;
        case PhaseKind::kStageOne:
        case PhaseKind::kDelta:
          if (cut[p.leg])
            Error(p.pos, std::string(PhaseKindName(p.kind)) + " phase \"" + p.name +
                             "\" comes after the cutover of leg " + LegName(p.leg) +
                             ": after cutover the destination is authoritative");
          if (p.leg == Leg::kBack && !cut[Leg::kOut])
            Error(p.pos, "phase \"" + p.name +
                             "\" moves accounts back from transit before the cutover of leg out");
          staged[p.leg] = true;
          break;
        case PhaseKind::kCutover:
          if (cut[p.leg])
            Error(p.pos, "second cutover phase \"" + p.name + "\" for leg " + LegName(p.leg));
          if (p.leg == Leg::kBack && !cut[Leg::kOut])
            Error(p.pos, "cutover \"" + p.name + "\" of leg back comes before the cutover of "
                         "leg out");
          cut[p.leg] = true;
          break;
        case PhaseKind::kRollback:
          if (!cut[p.leg])
            Error(p.pos, "rollback phase \"" + p.name + "\" has no cutover of leg " +
                             LegName(p.leg) + " before it: there is nothing to roll back");
          break;
      }
      if (p.kind != PhaseKind::kWait) seen_non_wait = true;
    }
    (void)staged;
  }

  size_t Add(Step s) {
    steps_.push_back(std::move(s));
    return steps_.size() - 1;
  }

  // Resolves a hook's host for an account on a leg.
  bool HookHostOf(const Hook& h, const Endpoint* src, const Endpoint* dst, Endpoint* out) {
    const Endpoint* e = nullptr;
    if (h.on == HookHost::kSource) e = src;
    else if (h.on == HookHost::kDestination) e = dst;
    else e = plan_.FindEndpoint(h.endpoint);
    if (!e) {
      if (h.on == HookHost::kEndpoint)
        Error(h.on_pos, "phase hook 'on' \"" + h.endpoint + "\" is not an endpoint");
      return false;
    }
    if (e->kind == EndpointKind::kDaemon) {
      Error(h.on_pos, "hook runs on endpoint \"" + e->name + "\" (" + e->spec +
                          "), a ferry daemon: hooks need a local or ssh endpoint");
      return false;
    }
    *out = *e;
    return true;
  }

  void EmitHooks(const std::vector<const Hook*>& hooks, const std::string& prefix,
                 const std::string& slot, const Phase& ph, const std::string& account,
                 const Endpoint* src, const Endpoint* dst, std::vector<size_t>* deps) {
    int n = 0;
    for (const Hook* h : hooks) {
      if (h->when != slot) continue;
      Step s;
      s.kind = StepKind::kHook;
      s.id = prefix + slot + "." + std::to_string(++n);
      s.phase = ph.name;
      s.account = account;
      s.hook = *h;
      if (!HookHostOf(*h, src, dst, &s.host)) continue;
      s.deps = *deps;
      *deps = {Add(std::move(s))};
    }
  }

  StepGraph Run() {
    CheckNames();
    for (const Account& a : plan_.accounts) {
      CheckEndpointRef(a.source, a.source_pos, "source");
      CheckEndpointRef(a.destination, a.destination_pos, "destination");
      CheckEndpointRef(a.transit, a.transit_pos, "transit");
      if (!a.source.empty() && a.source == a.destination && a.transit.empty())
        Error(a.destination_pos, "account \"" + a.name + "\": source and destination are the "
                                 "same endpoint \"" + a.source + "\" and there is no transit");
      std::map<std::string, SourcePos> tos;
      for (const PathSet& s : a.paths) {
        auto [it, fresh] = tos.emplace(s.to, s.pos);
        if (!fresh)
          Error(s.pos, "account \"" + a.name + "\": two path sets land at \"" + s.to +
                           "\" (first at line " + std::to_string(it->second.line) + ")");
      }
      for (const Hook& h : a.hooks) {
        const Phase* ph = plan_.FindPhase(h.phase);
        if (!ph) {
          Error(h.phase_pos, "hook names unknown phase \"" + h.phase + "\" (phases: " +
                                 PhaseNames() + ")");
          continue;
        }
        std::vector<std::string> slots = AccountSlots(ph->kind);
        bool ok = false;
        for (const std::string& s : slots) ok |= s == h.when;
        if (!ok)
          Error(h.when_pos, "hook 'when' \"" + h.when + "\" does not exist in " +
                                PhaseKindName(ph->kind) + " phase \"" + ph->name + "\"" +
                                (slots.empty() ? std::string(": account hooks cannot run there")
                                               : " (expected " + Join(slots) + ")"));
      }
    }
    for (const Phase& p : plan_.phases) {
      for (const Hook& h : p.hooks) {
        bool ok = p.kind == PhaseKind::kWait ? h.when == "check"
                                             : (h.when == "before" || h.when == "after");
        if (!ok)
          Error(h.when_pos, "phase hook 'when' \"" + h.when + "\" does not exist in " +
                                PhaseKindName(p.kind) + " phase \"" + p.name + "\" (expected " +
                                (p.kind == PhaseKind::kWait ? "check" : "before, after") + ")");
      }
    }
    CheckOrder();

    StepGraph g;
    g.name = plan_.name;
    g.state_dir = plan_.state_dir;
    g.rsh = plan_.rsh;
    g.remote_ferry = plan_.remote_ferry;
    g.concurrency = plan_.concurrency;
    for (const Account& a : plan_.accounts) g.accounts.push_back({a.name, a.usermap, a.groupmap});
    if (!diags_->empty()) return g;

    std::vector<size_t> prev_end;  // end barrier of the last non-manual phase
    for (const Phase& ph : plan_.phases) {
      CompiledPhase cp{ph.name, ph.kind, ph.leg, ph.manual, steps_.size(), 0};
      std::vector<const Hook*> phase_hooks;
      for (const Hook& h : ph.hooks) phase_hooks.push_back(&h);
      std::vector<size_t> start = prev_end;
      std::vector<size_t> ends;
      if (ph.kind == PhaseKind::kWait) {
        Step w;
        w.kind = StepKind::kWait;
        w.id = ph.name + "/wait";
        w.phase = ph.name;
        w.min_delay_ms = ph.min_delay_ms;
        w.deps = start;
        std::vector<size_t> chain = {Add(std::move(w))};
        EmitHooks(phase_hooks, ph.name + "/", "check", ph, "", nullptr, nullptr, &chain);
        ends = chain;
      } else {
        EmitHooks(phase_hooks, ph.name + "/", "before", ph, "", nullptr, nullptr, &start);
        for (const Account& a : plan_.accounts) {
          const Endpoint* src = plan_.FindEndpoint(a.source);
          const Endpoint* dst = plan_.FindEndpoint(a.destination);
          const Endpoint* tr = plan_.FindEndpoint(a.transit);
          if (ph.leg == Leg::kOut) dst = tr;
          if (ph.leg == Leg::kBack) src = tr;
          if (!src || !dst) {
            // An account without a transit endpoint takes no part in a leg.
            continue;
          }
          std::vector<const Hook*> hooks;
          for (const Hook& h : a.hooks)
            if (h.phase == ph.name) hooks.push_back(&h);
          std::string prefix = ph.name + "/" + a.name + "/";
          std::vector<size_t> chain = start;
          std::vector<std::string> slots = AccountSlots(ph.kind);
          // First slot runs before the syncs.
          EmitHooks(hooks, prefix, slots[0], ph, a.name, src, dst, &chain);
          bool rollback = ph.kind == PhaseKind::kRollback;
          std::vector<Transfer> transfers;
          for (const PathSet& ps : a.paths) {
            Transfer t;
            t.src = rollback ? *dst : *src;
            t.dst = rollback ? *src : *dst;
            t.src_path = JoinPath(t.src.path, rollback ? ps.to : ps.path);
            t.dst_path = JoinPath(t.dst.path, rollback ? ps.path : ps.to);
            t.kind = ps.kind;
            t.filter = ps.filter;
            t.label = rollback ? ps.to : ps.path;
            CheckRemoteLeg(a, ps, t, ph);
            transfers.push_back(t);
          }
          int n = 0;
          for (const Transfer& t : transfers) {
            Step s;
            s.kind = StepKind::kSync;
            s.id = prefix + "sync." + std::to_string(++n);
            s.phase = ph.name;
            s.account = a.name;
            s.transfers = {t};
            s.del = ph.kind == PhaseKind::kCutover || rollback;
            s.final_pass = ph.kind == PhaseKind::kCutover;
            if (ph.kind == PhaseKind::kDelta) {
              s.repeat = true;
              s.until_bytes = ph.delta.until_bytes;
              s.until_ms = ph.delta.until_ms;
              s.max_passes = ph.delta.max_passes;
              if (a.delta) {  // the account's own thresholds win, key by key
                if (a.delta->until_bytes) s.until_bytes = a.delta->until_bytes;
                if (a.delta->until_ms) s.until_ms = a.delta->until_ms;
                if (a.delta->max_passes > 0) s.max_passes = a.delta->max_passes;
              }
            }
            s.deps = chain;
            chain = {Add(std::move(s))};
          }
          if (ph.kind == PhaseKind::kCutover) {
            EmitHooks(hooks, prefix, "after-sync", ph, a.name, src, dst, &chain);
            Step v;
            v.kind = StepKind::kVerify;
            v.id = prefix + "verify";
            v.phase = ph.name;
            v.account = a.name;
            v.transfers = transfers;
            v.deps = chain;
            chain = {Add(std::move(v))};
          }
          EmitHooks(hooks, prefix, slots.back(), ph, a.name, src, dst, &chain);
          ends.insert(ends.end(), chain.begin(), chain.end());
        }
        EmitHooks(phase_hooks, ph.name + "/", "after", ph, "", nullptr, nullptr, &ends);
      }
      Step b;
      b.kind = StepKind::kBarrier;
      b.id = ph.name + "/end";
      b.phase = ph.name;
      b.deps = ends.empty() ? start : ends;
      size_t end = Add(std::move(b));
      cp.end = steps_.size();
      g.phases.push_back(cp);
      if (!ph.manual) prev_end = {end};
    }
    g.steps = std::move(steps_);
    g.warnings = std::move(warnings_);
    return g;
  }

 private:
  const Plan& plan_;
  std::vector<Diagnostic>* diags_;
  std::set<std::string> remote_reported_;
  std::vector<Diagnostic> warnings_;  // one diagnostic per account/path set and field

  // What a leg with an ssh end cannot do, reported by `plan check` rather
  // than found at run time: keep this in step with the refusals of RunLeg
  // (leg.h) and RemoteVerifier (verify.h).
  void CheckRemoteLeg(const Account& a, const PathSet& ps, const Transfer& t, const Phase& ph) {
    bool src_ssh = t.src.kind == EndpointKind::kSsh, dst_ssh = t.dst.kind == EndpointKind::kSsh;
    bool src_remote = t.src.kind != EndpointKind::kLocal;
    bool dst_remote = t.dst.kind != EndpointKind::kLocal;
    if (!src_remote && !dst_remote) return;
    std::string leg =
        EndpointDisplay(t.src, t.src_path) + " -> " + EndpointDisplay(t.dst, t.dst_path);
    // Two ssh ends can never run (the runner is one end of every sync); the
    // rest is a warning.
    auto once = [&](const std::string& key, SourcePos pos, const std::string& msg) {
      if (!remote_reported_.insert(key).second) return;
      if (key.ends_with("/both")) Error(pos, msg);
      else warnings_.push_back(Diagnostic{plan_.file, pos, "warning: " + msg});
    };
    if (src_ssh && dst_ssh)
      once(a.name + "/" + ps.path + "/both", ps.pos,
           "account " + a.name + ", path set " + ps.path + ", phase " + ph.name + ": " + leg +
               ": both ends are ssh endpoints; one end of a sync must be local");
    else if (src_remote && dst_remote)
      once(a.name + "/" + ps.path + "/both", ps.pos,
           "account " + a.name + ", path set " + ps.path + ", phase " + ph.name + ": " + leg +
               ": both ends are remote (ssh or ferry daemon); one end of a sync must be local");
    // Filters and owner maps travel with the remote session, and the
    // cutover's verification reaches an ssh or daemon end (owners of a
    // remote source mapped by the names it sends): nothing more to warn of.
  }
  std::vector<Step> steps_;
};

}  // namespace

const CompiledPhase* StepGraph::FindPhase(const std::string& n) const {
  for (const CompiledPhase& p : phases)
    if (p.name == n) return &p;
  return nullptr;
}

StepGraph CompilePlan(const Plan& plan, std::vector<Diagnostic>* diags) {
  return Compiler(plan, diags).Run();
}

std::string EndpointDisplay(const Endpoint& e, const std::string& path) {
  switch (e.kind) {
    case EndpointKind::kLocal: return path;
    case EndpointKind::kSsh: return (e.user.empty() ? "" : e.user + "@") + e.host + ":" + path;
    case EndpointKind::kDaemon: {
      std::string s = "ferry://" + (e.user.empty() ? "" : e.user + "@") + e.host;
      if (e.port) s += ":" + std::to_string(e.port);
      s += "/" + e.module;
      if (!path.empty()) s += (path.front() == '/' ? "" : "/") + path;
      return s;
    }
  }
  return path;
}

namespace {
std::string HostName(const Endpoint& e) {
  return e.kind == EndpointKind::kLocal ? e.name + "(local)" : e.name + "(" + e.host + ")";
}
}  // namespace

std::string FormatStep(const StepGraph& g, const Step& s) {
  std::string line = s.id + "  account=" + (s.account.empty() ? "-" : s.account) + "  ";
  std::string host = "-";
  switch (s.kind) {
    case StepKind::kSync: {
      const Transfer& t = s.transfers[0];
      line += "sync " + EndpointDisplay(t.src, t.src_path) + " -> " +
              EndpointDisplay(t.dst, t.dst_path) + " [" + PathKindName(t.kind);
      if (s.del) line += ", delete";
      if (!t.filter.empty()) {
        line += ", filter:";
        for (const std::string& r : t.filter) line += " '" + r + "'";
      }
      if (s.repeat) {
        line += ", repeat until";
        if (s.until_bytes) line += " bytes<" + FormatBytes(*s.until_bytes);
        if (s.until_ms) line += std::string(s.until_bytes ? " or" : "") + " time<" +
                                FormatDuration(*s.until_ms);
        line += std::string(s.until_bytes || s.until_ms ? " or" : "") + " passes=" +
                std::to_string(s.max_passes);
      }
      if (s.final_pass) line += ", final";
      line += "]";
      host = t.src.kind == EndpointKind::kLocal && t.dst.kind == EndpointKind::kLocal
                 ? "local"
                 : HostName(t.src) + "->" + HostName(t.dst);
      break;
    }
    case StepKind::kHook:
      line += "hook " + s.hook.when + ": sh -c '" + s.hook.command + "' timeout " +
              FormatDuration(s.hook.timeout_ms);
      host = HostName(s.host);
      break;
    case StepKind::kWait: line += "wait at least " + FormatDuration(s.min_delay_ms); break;
    case StepKind::kVerify:
      line += "verify content+metadata of " + std::to_string(s.transfers.size()) +
              " path set(s)";
      host = s.transfers.empty() || (s.transfers[0].src.kind == EndpointKind::kLocal &&
                                      s.transfers[0].dst.kind == EndpointKind::kLocal)
                 ? "local"
                 : HostName(s.transfers[0].src) + "->" + HostName(s.transfers[0].dst);
      break;
    case StepKind::kBarrier: line += "end of phase"; break;
  }
  line += "  host=" + host + "  after=";
  if (s.deps.empty()) line += "-";
  for (size_t i = 0; i < s.deps.size(); ++i)
    line += (i ? "," : "") + g.steps[s.deps[i]].id;
  return line;
}

std::string FormatGraph(const StepGraph& g) {
  std::string out;
  out += "plan " + (g.name.empty() ? std::string("(unnamed)") : g.name) + ": " +
         std::to_string(g.accounts.size()) + " account(s), concurrency " +
         std::to_string(g.concurrency) + ", " + std::to_string(g.steps.size()) + " steps\n";
  for (const CompiledPhase& p : g.phases) {
    out += "phase " + p.name + " (" + PhaseKindName(p.kind);
    if (p.leg != Leg::kDirect) out += std::string(", leg ") + LegName(p.leg);
    if (p.manual) out += ", manual";
    out += ")\n";
    for (size_t i = p.first; i < p.end; ++i) out += "  " + FormatStep(g, g.steps[i]) + "\n";
  }
  return out;
}

}  // namespace ferry::plan
