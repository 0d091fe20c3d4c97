// The sync rules a remote session carries in its SessionOptions (PROTOCOL.md
// "Options"): filter rules (--exclude, --include, --exclude-from,
// --include-from) and owner maps (--usermap, --groupmap, --chown).
//
// The client puts them in its proposal (PutSyncRules); each role rebuilds
// them from the agreed options (SyncRulesFrom): the sender lists nothing the
// filter excludes, the receiver deletes nothing it excludes and maps owners
// with the maps bound against its own user and group databases (as rsync's
// receiver does), so a TO name unknown on the receiving host is an error,
// never uid 0.
//
// Thread safety: pure functions; the returned values are immutable.
#pragma once

#include <memory>
#include <optional>

#include "engine/base/status.h"
#include "engine/transfer/options.h"
#include "engine/tree/filter.h"
#include "engine/tree/id_map.h"
#include "protocol/messages.h"

namespace ferry::protocol {

// Copies opt's filter rules, owner maps and --dry-run into o. An unbound
// map is fine: only its text travels. With maps, names must travel too, so
// numeric_ids is turned off.
void PutSyncRules(const SyncOptions& opt, SessionOptions* o);

// Errors (kInvalidArgument): more rules, or a longer rule or map text, than
// the wire carries (kFilterRulesMax, kFilterRuleMax, kIdMapTextMax).
Status CheckSyncRulesFit(const SessionOptions& o);

struct SyncRules {
  std::shared_ptr<const FilterList> filter;  // null: no rules
  std::optional<IdMapping> ids;              // bound on this machine; nullopt: no maps
};

// Rebuilds the rules of agreed options. `bind_ids`: the receiver binds the
// maps against this machine's names (the sender leaves them alone).
// Errors (kInvalidArgument, kNotFound) name the rule or the map pair, e.g.
// "--usermap: ... user \"nosuch\" does not exist on this host".
Result<SyncRules> SyncRulesFrom(const SessionOptions& o, bool bind_ids);

}  // namespace ferry::protocol
