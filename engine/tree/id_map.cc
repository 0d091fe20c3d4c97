#include "engine/tree/id_map.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ferry {

namespace {

const char* What(IdKind k) { return k == IdKind::kUser ? "user" : "group"; }

std::optional<uint32_t> Number(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(),
                                [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool NameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
         c == '.' || c == '$';
}

bool ValidName(std::string_view s) {
  return !s.empty() && s[0] != '-' && std::all_of(s.begin(), s.end(), NameChar);
}

Status Bad(std::string_view flag, std::string_view pair, const std::string& why) {
  return InvalidArgument(std::string(flag) + ": bad pair \"" + std::string(pair) +
                         "\": " + why);
}

Result<IdMap::Rule> ParseRule(std::string_view from, std::string_view to,
                              std::string_view flag) {
  IdMap::Rule r;
  r.text = std::string(from) + ":" + std::string(to);
  if (from.empty() || to.empty())
    return Bad(flag, r.text,
               "expected FROM:TO (FROM a name, number, LOW-HIGH or wildcard; "
               "TO a name or number)");
  r.to = std::string(to);
  if (auto n = Number(to)) r.to_id = *n;
  else if (!ValidName(to))
    return Bad(flag, r.text, "TO \"" + r.to + "\" must be a name or a number");
  if (auto n = Number(from)) {
    r.from = IdMap::Rule::From::kId;
    r.low = r.high = *n;
    return r;
  }
  size_t dash = from.find('-');
  if (dash != std::string_view::npos) {
    auto lo = Number(from.substr(0, dash)), hi = Number(from.substr(dash + 1));
    if (lo && hi) {
      if (*lo > *hi)
        return Bad(flag, r.text, "range " + std::string(from) + " is empty (LOW > HIGH)");
      r.from = IdMap::Rule::From::kRange;
      r.low = *lo;
      r.high = *hi;
      return r;
    }
  }
  bool wild = from.find_first_of("*?[") != std::string_view::npos;
  for (char c : from)
    if (!NameChar(c) && !(wild && (c == '*' || c == '?' || c == '[' || c == ']' || c == '!')))
      return Bad(flag, r.text, std::string("unexpected character '") + c + "' in FROM");
  r.from = wild ? IdMap::Rule::From::kPattern : IdMap::Rule::From::kName;
  r.pattern = std::string(from);
  return r;
}

}  // namespace

Result<IdMap> IdMap::FromPairs(
    const std::vector<std::pair<std::string, std::string>>& pairs, IdKind kind,
    std::string_view flag) {
  IdMap m;
  m.kind_ = kind;
  for (const auto& [from, to] : pairs) {
    ASSIGN_OR_RETURN(Rule r, ParseRule(from, to, flag));
    m.rules_.push_back(std::move(r));
  }
  return m;
}

Result<IdMap> IdMap::Parse(std::string_view text, IdKind kind, std::string_view flag) {
  if (text.empty())
    return InvalidArgument(std::string(flag) + ": empty value: expected FROM:TO[,FROM:TO...]");
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t i = 0;
  while (i <= text.size()) {
    size_t comma = std::min(text.find(',', i), text.size());
    std::string_view item = text.substr(i, comma - i);
    // rsync splits at the last colon: FROM never holds one, TO may not either.
    size_t colon = item.rfind(':');
    if (colon == std::string_view::npos)
      return Bad(flag, item, "expected FROM:TO (FROM a name, number, LOW-HIGH or "
                             "wildcard; TO a name or number)");
    pairs.emplace_back(std::string(item.substr(0, colon)),
                       std::string(item.substr(colon + 1)));
    i = comma + 1;
  }
  return FromPairs(pairs, kind, flag);
}

Result<IdMap> IdMap::Bind(const IdNames& dst) const {
  IdMap out = *this;
  for (Rule& r : out.rules_) {
    if (r.to_id) continue;  // a number: the user wrote it
    std::optional<uint32_t> id = dst.Id(kind_, r.to);
    if (!id)
      return Status(ErrorCode::kNotFound,
                    std::string(What(kind_)) + " \"" + r.to + "\" (in \"" + r.text +
                        "\") does not exist on the destination");
    if (*id == 0 && r.to != "root")
      return InvalidArgument(std::string(What(kind_)) + " \"" + r.to + "\" (in \"" +
                             r.text + "\") is id 0 on the destination; write root or "
                             "0 to map to it");
    r.to_id = *id;
  }
  out.bound_ = true;
  return out;
}

const IdMap::Rule* IdMap::Match(uint32_t id, const std::string* name) const {
  for (const Rule& r : rules_) {
    switch (r.from) {
      case Rule::From::kId:
      case Rule::From::kRange:
        if (id >= r.low && id <= r.high) return &r;
        break;
      case Rule::From::kName:
        if (name && *name == r.pattern) return &r;
        break;
      case Rule::From::kPattern:
        // An id without a source name matches as the empty name: "*" covers
        // every file (--chown), "a*" does not.
        if (::fnmatch(r.pattern.c_str(), name ? name->c_str() : "", 0) == 0) return &r;
        break;
    }
  }
  return nullptr;
}

uint32_t IdMap::Map(uint32_t id, const std::string* name) const {
  const Rule* r = Match(id, name);
  return r && r->to_id ? *r->to_id : id;
}

Result<IdMapping> IdMapping::Bind() const {
  static const SystemIdNames kSystem;
  const IdNames& dst = dst_names ? *dst_names : kSystem;
  IdMapping out = *this;
  ASSIGN_OR_RETURN(out.users, users.Bind(dst));
  ASSIGN_OR_RETURN(out.groups, groups.Bind(dst));
  return out;
}

IdTable IdMapping::Table(const std::vector<uint32_t>& uids,
                         const std::vector<uint32_t>& gids) const {
  static const SystemIdNames kSystem;
  const IdNames& src = src_names ? *src_names : kSystem;
  IdTable t;
  auto fill = [&](const IdMap& m, const std::vector<uint32_t>& ids,
                  std::unordered_map<uint32_t, uint32_t>* out) {
    if (m.empty()) return;
    for (uint32_t id : ids) {
      if (out->count(id)) continue;
      std::optional<std::string> name = src.Name(m.kind(), id);
      (*out)[id] = m.Map(id, name ? &*name : nullptr);
    }
  };
  fill(users, uids, &t.uid);
  fill(groups, gids, &t.gid);
  return t;
}

Status ParseChown(std::string_view text, IdMap* users, IdMap* groups) {
  size_t colon = text.find(':');
  std::string_view u = text.substr(0, colon);
  std::string_view g = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  if (u.empty() && g.empty())
    return InvalidArgument("--chown=" + std::string(text) +
                           ": expected USER, USER:GROUP or :GROUP");
  if (!u.empty()) {
    ASSIGN_OR_RETURN(*users, IdMap::FromPairs({{"*", std::string(u)}}, IdKind::kUser,
                                              "--chown"));
  }
  if (!g.empty()) {
    ASSIGN_OR_RETURN(*groups, IdMap::FromPairs({{"*", std::string(g)}}, IdKind::kGroup,
                                               "--chown"));
  }
  return Status::Ok();
}

}  // namespace ferry
