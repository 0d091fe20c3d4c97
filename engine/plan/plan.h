// Plan: the parsed value of a migration plan file (PLAN_FORMAT.md), before
// compilation. Produced by ParsePlan (parse.h), consumed by CompilePlan
// (compile.h). Every element keeps the position it was written at so later
// checks can name file:line:column.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ferry::plan {

// A place in the plan file (1-based line and column; 0 when unknown).
struct SourcePos {
  int line = 0;
  int column = 0;
};

// One problem found in a plan: "FILE:LINE:COL: MESSAGE".
struct Diagnostic {
  std::string file;
  SourcePos pos;
  std::string message;
  std::string ToString() const;
};

enum class EndpointKind { kLocal, kSsh, kDaemon };

// Where files live: a local directory, `[user@]host:path` reached over the
// remote shell, or a ferry daemon module `ferry://host[:port]/module[/path]`.
struct Endpoint {
  std::string name;  // the key under [endpoints]
  EndpointKind kind = EndpointKind::kLocal;
  std::string spec;  // as written
  std::string user;  // ssh, daemon; may be empty
  std::string host;  // ssh, daemon
  int port = 0;      // daemon; 0 = default
  std::string module;  // daemon
  std::string path;  // local/ssh: the directory; daemon: path inside module
  // daemon: the file whose first line is the module's secret (as written;
  // empty: $FERRY_PASSWORD). From `name = { url = "...", password_file = "..." }`.
  std::string password_file;
  SourcePos pos;
};

enum class PathKind { kFiles, kMaildir, kDump };

// A set of paths of one account: `path` below the source endpoint lands at
// `to` below the destination endpoint (the same relative path by default).
struct PathSet {
  std::string path;
  std::string to;
  PathKind kind = PathKind::kFiles;
  std::vector<std::string> filter;  // rsync rule text, in order
  SourcePos pos;
};

// Which end of the current leg runs a hook.
enum class HookHost { kSource, kDestination, kEndpoint };

struct Hook {
  std::string phase;  // name of a phase
  std::string when;   // slot: before, after, freeze, after-sync, switch, reactivate, check
  HookHost on = HookHost::kSource;
  std::string endpoint;  // kEndpoint (phase hooks): the endpoint name
  std::string command;   // run by /bin/sh -c
  int64_t timeout_ms = 600'000;
  SourcePos pos;
  SourcePos phase_pos, when_pos, on_pos;  // of those keys
};

// One FROM:TO rule of --usermap/--groupmap. FROM is a name, a number, a
// range "LOW-HIGH" or a wildcard pattern; TO is a name or a number.
struct IdMapRule {
  std::string from;
  std::string to;
};

// When a delta phase stops repeating passes: after a pass that moved fewer
// than until_bytes bytes, or took less than until_ms, or after max_passes
// passes (whichever comes first).
struct DeltaThresholds {
  std::optional<uint64_t> until_bytes;
  std::optional<int64_t> until_ms;
  int max_passes = 5;  // in an account's [accounts.delta]: 0 = not set there
};

struct Account {
  std::string name;
  std::string source;       // endpoint names
  std::string destination;
  std::string transit;      // empty: no transit leg
  std::vector<PathSet> paths;
  std::vector<Hook> hooks;
  std::vector<IdMapRule> usermap, groupmap;
  // [accounts.delta]: thresholds for this account in every delta phase.
  std::optional<DeltaThresholds> delta;
  SourcePos pos;
  SourcePos source_pos, destination_pos, transit_pos;  // of those keys
};

enum class PhaseKind { kStageOne, kWait, kDelta, kCutover, kRollback };
enum class Leg { kDirect, kOut, kBack };  // source->destination, ->transit, transit->

struct Phase {
  std::string name;
  PhaseKind kind = PhaseKind::kStageOne;
  Leg leg = Leg::kDirect;
  bool manual = false;  // runs only when named by `plan run --phase`
  // wait
  int64_t min_delay_ms = 0;
  // delta (an account's [accounts.delta] overrides these key by key)
  DeltaThresholds delta;
  std::vector<Hook> hooks;  // phase-level hooks (on a named endpoint)
  SourcePos pos;
};

struct Plan {
  std::string file;      // as given to ParsePlan, for messages
  std::string name;
  std::string state_dir;  // as written; empty = default
  std::string rsh = "ssh";
  std::string remote_ferry = "ferry";  // the ferry command on ssh endpoints
  int concurrency = 1;
  std::vector<Endpoint> endpoints;
  std::vector<Phase> phases;
  std::vector<Account> accounts;

  const Endpoint* FindEndpoint(const std::string& name) const;
  const Phase* FindPhase(const std::string& name) const;
};

const char* PhaseKindName(PhaseKind k);
const char* PathKindName(PathKind k);
const char* LegName(Leg l);

}  // namespace ferry::plan
