// Maps user and group names from the wire to local ids (rsync's behaviour
// without --numeric-ids), with one rule a hostile or confused peer cannot
// bend: a name that is unknown here is never mapped to uid/gid 0.
//
// Thread safety: SystemIdResolver and MapIdResolver are safe for concurrent
// lookups (getpwnam_r / immutable maps).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace ferry::protocol {

class IdResolver {
 public:
  virtual ~IdResolver() = default;
  virtual std::optional<uint32_t> Uid(const std::string& user) const = 0;
  virtual std::optional<uint32_t> Gid(const std::string& group) const = 0;
};

// The local passwd/group databases (getpwnam_r / getgrnam_r).
class SystemIdResolver final : public IdResolver {
 public:
  std::optional<uint32_t> Uid(const std::string& user) const override;
  std::optional<uint32_t> Gid(const std::string& group) const override;
};

// Fixed tables (tests, fuzzers, --usermap style overrides).
class MapIdResolver final : public IdResolver {
 public:
  MapIdResolver(std::map<std::string, uint32_t> users, std::map<std::string, uint32_t> groups)
      : users_(std::move(users)), groups_(std::move(groups)) {}
  std::optional<uint32_t> Uid(const std::string& user) const override;
  std::optional<uint32_t> Gid(const std::string& group) const override;

 private:
  std::map<std::string, uint32_t> users_;
  std::map<std::string, uint32_t> groups_;
};

}  // namespace ferry::protocol
