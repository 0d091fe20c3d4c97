#include "protocol/id_resolver.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace ferry::protocol {

std::optional<uint32_t> SystemIdResolver::Uid(const std::string& user) const {
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* out = nullptr;
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &out) != 0 || out == nullptr) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(out->pw_uid);
}

std::optional<uint32_t> SystemIdResolver::Gid(const std::string& group) const {
  std::vector<char> buf(16384);
  struct group gr;
  struct group* out = nullptr;
  if (getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &out) != 0 || out == nullptr) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(out->gr_gid);
}

std::optional<uint32_t> MapIdResolver::Uid(const std::string& user) const {
  auto it = users_.find(user);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> MapIdResolver::Gid(const std::string& group) const {
  auto it = groups_.find(group);
  if (it == groups_.end()) return std::nullopt;
  return it->second;
}

}  // namespace ferry::protocol
