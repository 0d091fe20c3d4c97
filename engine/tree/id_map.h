// Owner and group mapping between servers: rsync's --usermap, --groupmap and
// --chown.
//
//   --usermap=FROM:TO[,FROM:TO...]   (--groupmap likewise)
//   FROM: a name, a number, a range "LOW-HIGH", or a wildcard pattern (*, ?,
//         [..]) matched against the SOURCE entry's name; "*" also matches ids
//         that have no name on the source.
//   TO:   a name (looked up on the DESTINATION) or a number.
//   The first rule that matches wins; an id no rule matches is kept as it is
//   (ferry's default is --numeric-ids).
//   --chown=USER:GROUP is --usermap=*:USER --groupmap=*:GROUP.
//
// Safety: a TO name that does not exist on the destination is an error naming
// it (never a silent 0). A TO name that resolves to id 0 is refused unless it
// is literally "root" (or the number 0), so root is only ever produced when the
// user wrote it.
//
// Names on the SRC side are looked up through the source's database and on
// DST through the destination's (IdNames): locally both are this machine's,
// a remote sync supplies the peer's. The matcher itself (IdMap::Parse,
// IdMap::Match, IdMap::Map) does no I/O; Bind and IdMapping::Table look up
// names.
//
// Thread safety: IdMap and IdTable are immutable values once built; the
// IdNames implementations here are safe for concurrent lookups.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/base/status.h"

namespace ferry {

enum class IdKind { kUser, kGroup };

// One side's user and group databases: id <-> name.
class IdNames {
 public:
  virtual ~IdNames() = default;
  virtual std::optional<std::string> Name(IdKind kind, uint32_t id) const = 0;
  virtual std::optional<uint32_t> Id(IdKind kind, std::string_view name) const = 0;
};

// This machine's passwd and group databases (getpwuid_r, getpwnam_r,
// getgrgid_r, getgrnam_r; NSS included).
class SystemIdNames final : public IdNames {
 public:
  std::optional<std::string> Name(IdKind kind, uint32_t id) const override;
  std::optional<uint32_t> Id(IdKind kind, std::string_view name) const override;
};

// Fixed tables: tests, and a peer's names received over the wire.
class TableIdNames final : public IdNames {
 public:
  TableIdNames(std::map<std::string, uint32_t> users,
               std::map<std::string, uint32_t> groups)
      : users_(std::move(users)), groups_(std::move(groups)) {}
  std::optional<std::string> Name(IdKind kind, uint32_t id) const override;
  std::optional<uint32_t> Id(IdKind kind, std::string_view name) const override;

 private:
  std::map<std::string, uint32_t> users_, groups_;
};

// A parsed --usermap or --groupmap.
class IdMap {
 public:
  struct Rule {
    enum class From { kId, kRange, kName, kPattern };
    From from = From::kId;
    uint32_t low = 0, high = 0;  // kId (low == high) and kRange
    std::string pattern;         // kName and kPattern
    std::string to;              // as written
    std::optional<uint32_t> to_id;  // a number, or a name once bound
    std::string text;            // "FROM:TO", for messages
  };

  IdMap() = default;  // empty: maps nothing

  // "FROM:TO[,FROM:TO...]". Errors (kInvalidArgument) quote the bad pair and
  // say what was expected. `flag` ("--usermap") starts the message.
  static Result<IdMap> Parse(std::string_view text, IdKind kind,
                             std::string_view flag);
  // From pairs already split (the plan format keeps them so).
  static Result<IdMap> FromPairs(
      const std::vector<std::pair<std::string, std::string>>& pairs,
      IdKind kind, std::string_view flag);

  // Looks up every TO name on the destination. Errors: a name that does not
  // exist there (kNotFound, naming it and the pair), a name other than "root"
  // that resolves to id 0 (kInvalidArgument).
  Result<IdMap> Bind(const IdNames& dst) const;

  bool empty() const { return rules_.empty(); }
  bool bound() const { return bound_; }
  IdKind kind() const { return kind_; }
  const std::vector<Rule>& rules() const { return rules_; }

  // The first rule matching a source id and its source name (null: the id
  // has no name there), or null. Pure.
  const Rule* Match(uint32_t id, const std::string* name) const;
  // The destination id for a source (id, name): the first matching rule's TO,
  // or id itself when none matches. Precondition: bound().
  uint32_t Map(uint32_t id, const std::string* name) const;

 private:
  IdKind kind_ = IdKind::kUser;
  bool bound_ = false;
  std::vector<Rule> rules_;
};

// Source id -> destination id for the ids a tree actually uses.
struct IdTable {
  std::unordered_map<uint32_t, uint32_t> uid, gid;
  uint32_t Uid(uint32_t id) const {
    auto it = uid.find(id);
    return it == uid.end() ? id : it->second;
  }
  uint32_t Gid(uint32_t id) const {
    auto it = gid.find(id);
    return it == gid.end() ? id : it->second;
  }
};

// Everything a sync needs to map owners: the two maps and both sides' names.
struct IdMapping {
  IdMap users, groups;
  std::shared_ptr<const IdNames> src_names;  // null: this machine's
  std::shared_ptr<const IdNames> dst_names;  // null: this machine's

  bool empty() const { return users.empty() && groups.empty(); }
  // Binds both maps against the destination's names (errors as IdMap::Bind).
  Result<IdMapping> Bind() const;
  // Maps each given source id once, looking its name up on the source.
  // Precondition: Bind()'s result.
  IdTable Table(const std::vector<uint32_t>& uids,
                const std::vector<uint32_t>& gids) const;
};

// --chown=USER:GROUP (either part may be empty, ":GROUP" or "USER" alone)
// into `users`/`groups` as "*:USER" / "*:GROUP". Errors name the value.
Status ParseChown(std::string_view text, IdMap* users, IdMap* groups);

}  // namespace ferry
