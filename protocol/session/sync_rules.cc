#include "protocol/session/sync_rules.h"

#include <string>

namespace ferry::protocol {

namespace {

std::string MapText(const IdMap& m) {
  std::string out;
  for (const IdMap::Rule& r : m.rules()) {
    if (!out.empty()) out += ',';
    out += r.text;
  }
  return out;
}

}  // namespace

void PutSyncRules(const SyncOptions& opt, SessionOptions* o) {
  o->dry_run = opt.dry_run;
  o->filter_rules.clear();
  o->usermap.clear();
  o->groupmap.clear();
  if (opt.filter) o->filter_rules = opt.filter->Texts();
  if (opt.id_map && !opt.id_map->empty()) {
    o->usermap = MapText(opt.id_map->users);
    o->groupmap = MapText(opt.id_map->groups);
    o->numeric_ids = false;  // the receiver matches FROM against the sender's names
  }
}

Status CheckSyncRulesFit(const SessionOptions& o) {
  if (o.filter_rules.size() > kFilterRulesMax) {
    return InvalidArgument("a remote sync carries at most " + std::to_string(kFilterRulesMax) +
                           " filter rules, not " + std::to_string(o.filter_rules.size()));
  }
  for (const std::string& r : o.filter_rules) {
    if (r.size() > kFilterRuleMax) {
      return InvalidArgument("filter rule \"" + r.substr(0, 40) +
                             "...\" is too long for a remote sync");
    }
  }
  if (o.usermap.size() > kIdMapTextMax || o.groupmap.size() > kIdMapTextMax) {
    return InvalidArgument("--usermap/--groupmap: longer than " +
                           std::to_string(kIdMapTextMax) + " bytes for a remote sync");
  }
  return Status::Ok();
}

Result<SyncRules> SyncRulesFrom(const SessionOptions& o, bool bind_ids) {
  SyncRules out;
  if (!o.filter_rules.empty()) {
    auto f = std::make_shared<FilterList>();
    for (const std::string& r : o.filter_rules) {
      RETURN_IF_ERROR(f->AddRule(RuleType::kExclude, r));
    }
    out.filter = std::move(f);
  }
  if (!o.usermap.empty() || !o.groupmap.empty()) {
    IdMapping m;
    if (!o.usermap.empty()) {
      ASSIGN_OR_RETURN(m.users, IdMap::Parse(o.usermap, IdKind::kUser, "--usermap"));
    }
    if (!o.groupmap.empty()) {
      ASSIGN_OR_RETURN(m.groups, IdMap::Parse(o.groupmap, IdKind::kGroup, "--groupmap"));
    }
    if (bind_ids) {
      auto bound = m.Bind();
      if (!bound.ok()) {
        const bool user = bound.status().message().starts_with("user");
        return Status(bound.status().code(), std::string(user ? "--usermap" : "--groupmap") +
                                                 ": " + bound.status().message());
      }
      m = std::move(*bound);
    }
    out.ids = std::move(m);
  }
  return out;
}

}  // namespace ferry::protocol
