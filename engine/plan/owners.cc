#include "engine/plan/owners.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ferry::plan {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs PairsOf(const std::vector<IdMapRule>& rules) {
  Pairs out;
  for (const IdMapRule& r : rules) out.emplace_back(r.from, r.to);
  return out;
}

Result<std::shared_ptr<const IdMapping>> Bind(const Pairs& users, const Pairs& groups,
                                              const char* user_field, const char* group_field) {
  IdMapping m;
  ASSIGN_OR_RETURN(m.users, IdMap::FromPairs(users, IdKind::kUser, user_field));
  ASSIGN_OR_RETURN(m.groups, IdMap::FromPairs(groups, IdKind::kGroup, group_field));
  auto bound = m.Bind();
  if (!bound.ok()) {
    std::string which = bound.status().message().starts_with("user") ? user_field : group_field;
    return Status(bound.status().code(), which + ": " + bound.status().message());
  }
  return std::shared_ptr<const IdMapping>(std::make_shared<IdMapping>(std::move(*bound)));
}

// TO:FROM for each rule of a bound forward map, or why there is none.
Result<Pairs> Invert(const IdMap& forward, const std::vector<IdMapRule>& rules,
                     const char* field) {
  const char* ids = forward.kind() == IdKind::kUser ? "uid" : "gid";
  std::map<uint32_t, std::string> onto;  // destination id -> the rule landing there
  Pairs out;
  for (size_t i = 0; i < forward.rules().size(); ++i) {
    const IdMap::Rule& r = forward.rules()[i];
    const std::string quoted = "\"" + rules[i].from + ":" + rules[i].to + "\"";
    if (r.from == IdMap::Rule::From::kRange || r.from == IdMap::Rule::From::kPattern)
      return Status(ErrorCode::kUnsupported,
                    std::string(field) + " " + quoted + ": FROM \"" + rules[i].from + "\" is a " +
                        (r.from == IdMap::Rule::From::kRange ? "range" : "wildcard") +
                        ", which has no inverse");
    const uint32_t to = r.to_id.value_or(0);
    auto [it, fresh] = onto.emplace(to, quoted);
    if (!fresh)
      return Status(ErrorCode::kUnsupported,
                    std::string(field) + " " + it->second + " and " + quoted + " both map to " +
                        ids + " " + std::to_string(to) +
                        " on the destination, so its owners cannot be told apart");
    out.emplace_back(rules[i].to, rules[i].from);
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const IdMapping>> BindAccountIds(const CompiledAccount& a) {
  return Bind(PairsOf(a.usermap), PairsOf(a.groupmap), "usermap", "groupmap");
}

Result<std::shared_ptr<const IdMapping>> BindRollbackIds(const CompiledAccount& a) {
  ASSIGN_OR_RETURN(std::shared_ptr<const IdMapping> forward, BindAccountIds(a));
  ASSIGN_OR_RETURN(Pairs users, Invert(forward->users, a.usermap, "usermap"));
  ASSIGN_OR_RETURN(Pairs groups, Invert(forward->groups, a.groupmap, "groupmap"));
  return Bind(users, groups, "usermap (inverted)", "groupmap (inverted)");
}

}  // namespace ferry::plan
