// The IdNames implementations: this machine's databases and fixed tables.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "engine/tree/id_map.h"

namespace ferry {

namespace {

// getpw*_r / getgr*_r want a caller buffer; ERANGE means "larger".
template <typename Rec, typename Fn>
bool Lookup(Fn fn, Rec* rec) {
  std::vector<char> buf(1024);
  for (;;) {
    Rec* out = nullptr;
    int rc = fn(rec, buf.data(), buf.size(), &out);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 4);
      continue;
    }
    return rc == 0 && out != nullptr;
  }
}

}  // namespace

std::optional<std::string> SystemIdNames::Name(IdKind kind, uint32_t id) const {
  if (kind == IdKind::kUser) {
    struct passwd pw;
    std::string name;
    bool ok = Lookup(
        [&](struct passwd* r, char* b, size_t n, struct passwd** o) {
          int rc = ::getpwuid_r(id, r, b, n, o);
          if (rc == 0 && *o) name = (*o)->pw_name;
          return rc;
        },
        &pw);
    if (ok) return name;
    return std::nullopt;
  }
  struct group gr;
  std::string name;
  bool ok = Lookup(
      [&](struct group* r, char* b, size_t n, struct group** o) {
        int rc = ::getgrgid_r(id, r, b, n, o);
        if (rc == 0 && *o) name = (*o)->gr_name;
        return rc;
      },
      &gr);
  if (ok) return name;
  return std::nullopt;
}

std::optional<uint32_t> SystemIdNames::Id(IdKind kind, std::string_view name) const {
  std::string n(name);
  if (kind == IdKind::kUser) {
    struct passwd pw;
    uint32_t id = 0;
    bool ok = Lookup(
        [&](struct passwd* r, char* b, size_t sz, struct passwd** o) {
          int rc = ::getpwnam_r(n.c_str(), r, b, sz, o);
          if (rc == 0 && *o) id = (*o)->pw_uid;
          return rc;
        },
        &pw);
    if (ok) return id;
    return std::nullopt;
  }
  struct group gr;
  uint32_t id = 0;
  bool ok = Lookup(
      [&](struct group* r, char* b, size_t sz, struct group** o) {
        int rc = ::getgrnam_r(n.c_str(), r, b, sz, o);
        if (rc == 0 && *o) id = (*o)->gr_gid;
        return rc;
      },
      &gr);
  if (ok) return id;
  return std::nullopt;
}

std::optional<std::string> TableIdNames::Name(IdKind kind, uint32_t id) const {
  for (const auto& [name, v] : kind == IdKind::kUser ? users_ : groups_)
    if (v == id) return name;
  return std::nullopt;
}

std::optional<uint32_t> TableIdNames::Id(IdKind kind, std::string_view name) const {
  const auto& m = kind == IdKind::kUser ? users_ : groups_;
  auto it = m.find(std::string(name));
  if (it == m.end()) return std::nullopt;
  return it->second;
}

}  // namespace ferry
