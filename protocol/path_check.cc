#include "protocol/path_check.h"

#include <cstdio>

#include "protocol/messages.h"

namespace ferry::protocol {

namespace {

Status Refuse(std::string_view field, std::string_view path, const std::string& why) {
  return Corrupt(std::string(field) + " " + QuotePath(path) + " " + why);
}

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

}  // namespace

std::string QuotePath(std::string_view path) {
  constexpr size_t kShown = 200;
  std::string out = "'";
  for (size_t i = 0; i < path.size() && i < kShown; ++i) {
    const char c = path[i];
    if (IsControl(c) || c == '\'' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '\'';
  if (path.size() > kShown) out += "... (" + std::to_string(path.size()) + " bytes)";
  return out;
}

Status CheckWirePath(std::string_view path, std::string_view field) {
  if (path.empty()) return Refuse(field, path, "is empty");
  if (path.size() >= kPathMax) {
    return Refuse(field, path, "is " + std::to_string(path.size()) +
                                   " bytes, longer than PATH_MAX (" +
                                   std::to_string(kPathMax - 1) + " bytes at most)");
  }
  if (path.front() == '/') return Refuse(field, path, "is absolute");
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\0') {
      return Refuse(field, path, "contains a NUL byte at offset " + std::to_string(i));
    }
    if (IsControl(path[i])) {
      return Refuse(field, path, "contains a control character at offset " +
                                     std::to_string(i));
    }
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view comp = path.substr(start, end - start);
    if (comp.empty()) return Refuse(field, path, "has an empty component");
    if (comp == "..") return Refuse(field, path, "has a '..' component");
    if (comp == ".") return Refuse(field, path, "has a '.' component");
    if (comp.size() > kNameMax) {
      return Refuse(field, path, "has a component of " + std::to_string(comp.size()) +
                                     " bytes, longer than NAME_MAX (" +
                                     std::to_string(kNameMax) + ")");
    }
    start = end + 1;
  }
  return Status::Ok();
}

Status CheckWireName(std::string_view name, std::string_view field) {
  if (name.find('/') != std::string_view::npos) {
    return Refuse(field, name, "is not a single path component (contains '/')");
  }
  return CheckWirePath(name, field);
}

}  // namespace ferry::protocol
