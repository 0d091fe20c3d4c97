// Reading the TOML tree with toml++: each table is checked against the keys
// it may hold, so a typo ("min_dealy") is an error rather than a default.
#include "engine/plan/parse.h"

#include <toml++/toml.h>

#include <initializer_list>
#include <set>

#include "engine/plan/values.h"
#include "engine/tree/filter.h"

namespace ferry::plan {
namespace {

SourcePos PosOf(const toml::source_region& r) {
  return SourcePos{static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

std::string TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date/time";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "nothing";
  }
}

class Parser {
 public:
  Parser(const std::string& file, std::vector<Diagnostic>* diags) : file_(file), diags_(diags) {}

  void Error(SourcePos pos, std::string msg) {
    diags_->push_back(Diagnostic{file_, pos, std::move(msg)});
  }
  void Error(const toml::node& n, std::string msg) { Error(PosOf(n.source()), std::move(msg)); }

  // Reports keys of t outside `allowed`.
  void CheckKeys(const toml::table& t, std::string_view where,
                 std::initializer_list<std::string_view> allowed) {
    for (auto&& [k, v] : t) {
      bool ok = false;
      for (std::string_view a : allowed) ok |= k.str() == a;
      if (ok) continue;
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Error(PosOf(k.source()),
            "unknown key '" + std::string(k.str()) + "' in " + std::string(where) +
                " (expected one of: " + list + ")");
    }
  }

  // A string value; false when absent or wrongly typed (reported).
  bool Str(const toml::table& t, std::string_view key, std::string_view where, bool required,
           std::string* out, SourcePos* pos = nullptr) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required)
        Error(PosOf(t.source()), std::string(where) + ": missing required key '" +
                                     std::string(key) + "' (a string)");
      return false;
    }
    if (pos) *pos = PosOf(n->source());
    if (!n->is_string()) {
      Error(*n, "'" + std::string(key) + "' in " + std::string(where) +
                    " must be a string, got " + TypeName(*n));
      return false;
    }
    *out = n->as_string()->get();
    return true;
  }

  bool Int(const toml::table& t, std::string_view key, std::string_view where, int64_t* out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (!n->is_integer()) {
      Error(*n, "'" + std::string(key) + "' in " + std::string(where) +
                    " must be an integer, got " + TypeName(*n));
      return false;
    }
    *out = n->as_integer()->get();
    return true;
  }

  bool Bool(const toml::table& t, std::string_view key, std::string_view where, bool* out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (!n->is_boolean()) {
      Error(*n, "'" + std::string(key) + "' in " + std::string(where) +
                    " must be true or false, got " + TypeName(*n));
      return false;
    }
    *out = n->as_boolean()->get();
    return true;
  }

  // An array of strings (or one string, taken as a one-element list when
  // allow_single).
  bool StrList(const toml::table& t, std::string_view key, std::string_view where,
               std::vector<std::pair<std::string, SourcePos>>* out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (n->is_string()) {
      out->push_back({n->as_string()->get(), PosOf(n->source())});
      return true;
    }
    if (!n->is_array()) {
      Error(*n, "'" + std::string(key) + "' in " + std::string(where) +
                    " must be an array of strings, got " + TypeName(*n));
      return false;
    }
    bool ok = true;
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) {
        Error(e, "'" + std::string(key) + "' in " + std::string(where) +
                     " must hold only strings, got " + TypeName(e));
        ok = false;
        continue;
      }
      out->push_back({e.as_string()->get(), PosOf(e.source())});
    }
    return ok;
  }

  // An array of tables at t[key]; wrongly typed elements are reported.
  std::vector<const toml::table*> Tables(const toml::table& t, std::string_view key,
                                         std::string_view where) {
    std::vector<const toml::table*> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    if (!n->is_array_of_tables()) {
      Error(*n, "'" + std::string(key) + "' in " + std::string(where) +
                    " must be an array of tables ([[" + std::string(key) + "]]), got " +
                    TypeName(*n));
      return out;
    }
    for (const toml::node& e : *n->as_array()) out.push_back(e.as_table());
    return out;
  }

  void Duration(const toml::table& t, std::string_view key, std::string_view where,
                int64_t* out) {
    std::string s;
    SourcePos pos;
    if (!Str(t, key, where, false, &s, &pos)) return;
    auto r = ParseDuration(s);
    if (!r.ok()) return Error(pos, "'" + std::string(key) + "': " + r.status().message());
    *out = *r;
  }

  Hook ParseHook(const toml::table& t, bool phase_level, const std::string& phase_name) {
    std::string where = phase_level ? "[[phases.hooks]]" : "[[accounts.hooks]]";
    Hook h;
    h.pos = PosOf(t.source());
    h.phase_pos = h.pos;
    if (phase_level) {
      CheckKeys(t, where, {"when", "on", "command", "timeout"});
      h.phase = phase_name;
    } else {
      CheckKeys(t, where, {"phase", "when", "on", "command", "timeout"});
      h.phase_pos = h.pos;
      Str(t, "phase", where, true, &h.phase, &h.phase_pos);
    }
    SourcePos& when_pos = h.when_pos;
    when_pos = h.pos;
    if (Str(t, "when", where, true, &h.when, &when_pos)) {
      static const std::set<std::string> kSlots = {"before", "after",  "freeze", "after-sync",
                                                   "switch", "reactivate", "check"};
      if (!kSlots.count(h.when))
        Error(when_pos, "bad hook 'when' \"" + h.when +
                            "\": expected before, after, freeze, after-sync, switch, "
                            "reactivate or check");
    }
    std::string on;
    SourcePos& on_pos = h.on_pos;
    on_pos = h.pos;
    if (Str(t, "on", where, true, &on, &on_pos)) {
      if (phase_level) {
        h.on = HookHost::kEndpoint;
        h.endpoint = on;
      } else if (on == "source") {
        h.on = HookHost::kSource;
      } else if (on == "destination") {
        h.on = HookHost::kDestination;
      } else {
        Error(on_pos, "bad hook 'on' \"" + on + "\": expected source or destination");
      }
    }
    SourcePos cmd_pos;
    if (Str(t, "command", where, false, &h.command, &cmd_pos)) {
      if (h.command.find_first_not_of(" \t\n") == std::string::npos)
        Error(cmd_pos, "hook 'command' is empty: expected a shell command");
    } else if (!t.get("command")) {
      Error(h.pos, "hook without command: " + where + " needs 'command' (a shell command)");
    }
    Duration(t, "timeout", where, &h.timeout_ms);
    if (t.get("timeout") && h.timeout_ms <= 0)
      Error(PosOf(t.get("timeout")->source()), "hook 'timeout' must be more than 0");
    return h;
  }

  // The keys until_bytes, until_time and max_passes of a delta phase or of
  // an account's [accounts.delta] table; each one present replaces *d's.
  void Thresholds(const toml::table& t, std::string_view where, DeltaThresholds* d) {
    if (const toml::node* n = t.get("until_bytes")) {
      if (n->is_integer()) {
        if (n->as_integer()->get() < 0) Error(*n, "bad threshold 'until_bytes': must be >= 0");
        else d->until_bytes = static_cast<uint64_t>(n->as_integer()->get());
      } else if (n->is_string()) {
        auto r = ParseByteSize(n->as_string()->get());
        if (!r.ok()) Error(*n, "bad threshold 'until_bytes': " + r.status().message());
        else d->until_bytes = *r;
      } else {
        Error(*n, "bad threshold 'until_bytes': expected a size such as \"64MiB\" or an "
                  "integer byte count, got " + TypeName(*n));
      }
    }
    if (t.get("until_time")) {
      int64_t ms = -1;
      Duration(t, "until_time", where, &ms);
      if (ms >= 0) d->until_ms = ms;
    }
    int64_t mp = d->max_passes;
    if (Int(t, "max_passes", where, &mp)) {
      if (mp < 1 || mp > 1000)
        Error(*t.get("max_passes"), "bad threshold 'max_passes': expected 1 to 1000, got " +
                                        std::to_string(mp));
      else d->max_passes = static_cast<int>(mp);
    }
  }

  Phase ParsePhase(const toml::table& t) {
    const char* where = "[[phases]]";
    CheckKeys(t, where,
              {"name", "kind", "leg", "manual", "min_delay", "until_bytes", "until_time",
               "max_passes", "hooks"});
    Phase p;
    p.pos = PosOf(t.source());
    std::string kind;
    SourcePos kind_pos;
    bool have_kind = Str(t, "kind", where, true, &kind, &kind_pos);
    if (have_kind) {
      if (kind == "stage-one") p.kind = PhaseKind::kStageOne;
      else if (kind == "wait") p.kind = PhaseKind::kWait;
      else if (kind == "delta") p.kind = PhaseKind::kDelta;
      else if (kind == "cutover") p.kind = PhaseKind::kCutover;
      else if (kind == "rollback") p.kind = PhaseKind::kRollback;
      else {
        Error(kind_pos, "unknown phase kind \"" + kind +
                            "\": expected stage-one, wait, delta, cutover or rollback");
        have_kind = false;
      }
    }
    if (!Str(t, "name", where, false, &p.name)) p.name = kind;
    if (!p.name.empty() && p.name.find_first_of("/ \t") != std::string::npos)
      Error(t.get("name") ? PosOf(t.get("name")->source()) : p.pos,
            "phase name \"" + p.name + "\" must not contain '/' or spaces");
    p.manual = p.kind == PhaseKind::kRollback;
    Bool(t, "manual", where, &p.manual);
    std::string leg;
    SourcePos leg_pos;
    if (Str(t, "leg", where, false, &leg, &leg_pos)) {
      if (leg == "direct") p.leg = Leg::kDirect;
      else if (leg == "out") p.leg = Leg::kOut;
      else if (leg == "back") p.leg = Leg::kBack;
      else Error(leg_pos, "bad 'leg' \"" + leg + "\": expected direct, out or back");
    }
    auto only = [&](std::string_view key, PhaseKind k, const char* kname) {
      const toml::node* n = t.get(key);
      if (n && have_kind && p.kind != k)
        Error(*n, "'" + std::string(key) + "' applies only to " + kname + " phases, not " +
                      kind);
    };
    only("min_delay", PhaseKind::kWait, "wait");
    only("until_bytes", PhaseKind::kDelta, "delta");
    only("until_time", PhaseKind::kDelta, "delta");
    only("max_passes", PhaseKind::kDelta, "delta");
    Duration(t, "min_delay", where, &p.min_delay_ms);
    Thresholds(t, where, &p.delta);
    for (const toml::table* h : Tables(t, "hooks", where))
      p.hooks.push_back(ParseHook(*h, true, p.name));
    return p;
  }

  PathSet ParsePathSet(const toml::table& t) {
    const char* where = "[[accounts.paths]]";
    CheckKeys(t, where, {"path", "to", "kind", "filter"});
    PathSet s;
    s.pos = PosOf(t.source());
    SourcePos ppos;
    if (Str(t, "path", where, true, &s.path, &ppos)) {
      if (s.path.starts_with("/") || s.path.find("..") != std::string::npos || s.path.empty())
        Error(ppos, "bad path \"" + s.path +
                        "\": expected a path relative to the endpoint, without '..'");
    }
    s.to = s.path;
    SourcePos tpos;
    if (Str(t, "to", where, false, &s.to, &tpos)) {
      if (s.to.starts_with("/") || s.to.find("..") != std::string::npos || s.to.empty())
        Error(tpos, "bad 'to' \"" + s.to +
                        "\": expected a path relative to the endpoint, without '..'");
    }
    std::string kind;
    SourcePos kpos;
    if (Str(t, "kind", where, false, &kind, &kpos)) {
      if (kind == "files") s.kind = PathKind::kFiles;
      else if (kind == "maildir") s.kind = PathKind::kMaildir;
      else if (kind == "dump") s.kind = PathKind::kDump;
      else Error(kpos, "bad path kind \"" + kind + "\": expected files, maildir or dump");
    }
    std::vector<std::pair<std::string, SourcePos>> rules;
    StrList(t, "filter", where, &rules);
    FilterList check;
    for (auto& [r, pos] : rules) {
      Status st = check.AddRule(RuleType::kExclude, r);
      if (!st.ok()) Error(pos, st.message() + " (rsync filter rule syntax, see engine/tree/filter.h)");
      s.filter.push_back(r);
    }
    return s;
  }

  void IdMap(const toml::table& t, std::string_view key, std::vector<IdMapRule>* out) {
    std::vector<std::pair<std::string, SourcePos>> items;
    StrList(t, key, "[[accounts]]", &items);
    for (auto& [text, pos] : items) {
      auto r = ParseIdMap(text, key);
      if (!r.ok()) {
        Error(pos, r.status().message());
        continue;
      }
      out->insert(out->end(), r->begin(), r->end());
    }
  }

  Account ParseAccount(const toml::table& t) {
    const char* where = "[[accounts]]";
    CheckKeys(t, where,
              {"name", "source", "destination", "transit", "usermap", "groupmap", "delta",
               "paths", "hooks"});
    Account a;
    a.pos = PosOf(t.source());
    SourcePos npos;
    if (Str(t, "name", where, true, &a.name, &npos) &&
        (a.name.empty() || a.name.find_first_of("/ \t") != std::string::npos))
      Error(npos, "account name \"" + a.name + "\" must be non-empty, without '/' or spaces");
    a.source_pos = a.destination_pos = a.transit_pos = a.pos;
    Str(t, "source", where, true, &a.source, &a.source_pos);
    Str(t, "destination", where, true, &a.destination, &a.destination_pos);
    Str(t, "transit", where, false, &a.transit, &a.transit_pos);
    IdMap(t, "usermap", &a.usermap);
    IdMap(t, "groupmap", &a.groupmap);
    if (const toml::node* n = t.get("delta")) {
      if (!n->is_table()) {
        Error(*n, "'delta' of [[accounts]] '" + a.name +
                      "' must be a table of until_bytes, until_time, max_passes, got " +
                      TypeName(*n));
      } else {
        const char* dwhere = "[accounts.delta]";
        CheckKeys(*n->as_table(), dwhere, {"until_bytes", "until_time", "max_passes"});
        DeltaThresholds d;
        d.max_passes = 0;  // 0: not set here
        Thresholds(*n->as_table(), dwhere, &d);
        a.delta = d;
      }
    }
    auto sets = Tables(t, "paths", where);
    if (sets.empty() && !t.get("paths"))
      Error(a.pos, "[[accounts]] '" + a.name +
                       "': missing required [[accounts.paths]] (at least one path set)");
    for (const toml::table* s : sets) a.paths.push_back(ParsePathSet(*s));
    for (const toml::table* h : Tables(t, "hooks", where)) a.hooks.push_back(ParseHook(*h, false, ""));
    return a;
  }

  Plan Run(std::string_view text) {
    Plan plan;
    plan.file = file_;
    toml::table root;
    try {
      root = toml::parse(text, std::string_view(file_));
    } catch (const toml::parse_error& e) {
      Error(PosOf(e.source()), "TOML syntax error: " + std::string(e.description()));
      return plan;
    }
    CheckKeys(root, "the top level",
              {"name", "state_dir", "rsh", "remote_ferry", "concurrency", "endpoints", "phases",
               "accounts"});
    Str(root, "name", "the top level", false, &plan.name);
    Str(root, "state_dir", "the top level", false, &plan.state_dir);
    SourcePos rpos;
    if (Str(root, "rsh", "the top level", false, &plan.rsh, &rpos) &&
        plan.rsh.find_first_not_of(" \t") == std::string::npos)
      Error(rpos, "'rsh' is empty: expected a remote shell command such as \"ssh -p 2222\"");
    if (Str(root, "remote_ferry", "the top level", false, &plan.remote_ferry, &rpos) &&
        plan.remote_ferry.find_first_not_of(" \t") == std::string::npos)
      Error(rpos, "'remote_ferry' is empty: expected the ferry command on ssh endpoints, such "
                  "as \"/usr/local/bin/ferry\"");
    int64_t conc = 1;
    if (Int(root, "concurrency", "the top level", &conc)) {
      if (conc < 1 || conc > 1024)
        Error(*root.get("concurrency"),
              "bad 'concurrency' " + std::to_string(conc) + ": expected 1 to 1024");
      else plan.concurrency = static_cast<int>(conc);
    }
    if (const toml::node* n = root.get("endpoints")) {
      if (!n->is_table()) {
        Error(*n, "'endpoints' must be a table of NAME = \"ENDPOINT\", got " + TypeName(*n));
      } else {
        for (auto&& [k, v] : *n->as_table()) {
          // A string, or a table with `url` and a daemon's `password_file`.
          const toml::node* url = &v;
          std::string password_file;
          if (const toml::table* et = v.as_table()) {
            const std::string ewhere = "endpoint '" + std::string(k.str()) + "'";
            CheckKeys(*et, ewhere, {"url", "password_file"});
            url = et->get("url");
            if (!url) {
              Error(v, ewhere + ": missing required key 'url' (/path, [user@]host:path or "
                               "ferry://[user@]host[:port]/module)");
              continue;
            }
            SourcePos ppos;
            if (Str(*et, "password_file", ewhere, false, &password_file, &ppos) &&
                password_file.empty())
              Error(ppos, ewhere + ": 'password_file' is empty: expected the path of a file "
                                   "holding the daemon secret");
          }
          if (!url->is_string()) {
            Error(*url, "endpoint '" + std::string(k.str()) +
                            "' must be a string (/path, [user@]host:path or ferry://host/module) "
                            "or a table with 'url' and 'password_file', got " + TypeName(*url));
            continue;
          }
          auto e = ParseEndpoint(url->as_string()->get());
          if (!e.ok()) {
            Error(*url, "endpoint '" + std::string(k.str()) + "': " + e.status().message());
            continue;
          }
          if (!password_file.empty() && e->kind != EndpointKind::kDaemon) {
            Error(v, "endpoint '" + std::string(k.str()) + "': 'password_file' is only for a "
                     "ferry daemon endpoint (ferry://...); ssh authenticates on its own");
            continue;
          }
          e->password_file = password_file;
          e->name = std::string(k.str());
          e->pos = PosOf(k.source());
          plan.endpoints.push_back(std::move(e).value());
        }
      }
    } else {
      Error(SourcePos{1, 1}, "missing required table [endpoints]");
    }
    auto phases = Tables(root, "phases", "the top level");
    if (phases.empty() && !root.get("phases"))
      Error(SourcePos{1, 1}, "missing required [[phases]] (at least one phase)");
    for (const toml::table* p : phases) plan.phases.push_back(ParsePhase(*p));
    auto accounts = Tables(root, "accounts", "the top level");
    if (accounts.empty() && !root.get("accounts"))
      Error(SourcePos{1, 1}, "missing required [[accounts]] (at least one account)");
    for (const toml::table* a : accounts) plan.accounts.push_back(ParseAccount(*a));
    return plan;
  }

 private:
  std::string file_;
  std::vector<Diagnostic>* diags_;
};

}  // namespace

std::string Diagnostic::ToString() const {
  return file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + message;
}

Plan ParsePlan(std::string_view text, const std::string& file, std::vector<Diagnostic>* diags) {
  Parser p(file, diags);
  return p.Run(text);
}

}  // namespace ferry::plan
