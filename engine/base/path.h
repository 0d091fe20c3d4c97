// Small path-string helpers shared by the commands that take rsync-style
// SRC and DST arguments (sync, verify). Pure string work, no I/O.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace ferry {

// "dir///" -> "dir"; "/" stays "/".
inline std::string StripTrailingSlashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// "a/b/c" -> {"a/b", "c"}; "c" -> {".", "c"}; "/c" -> {"/", "c"}.
inline std::pair<std::string, std::string> SplitParent(const std::string& p) {
  size_t s = p.rfind('/');
  if (s == std::string::npos) return {".", p};
  if (s == 0) return {"/", p.substr(1)};
  return {p.substr(0, s), p.substr(s + 1)};
}

// A path as rsync's itemized output shows it: each control byte (< 0x20,
// 0x7f) as \#ooo (octal), so a name holding a newline stays on one line;
// other bytes as they are.
inline std::string EscapeControlBytes(std::string_view p) {
  std::string out;
  out.reserve(p.size());
  for (char c : p) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[6];
      std::snprintf(buf, sizeof buf, "\\#%03o", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace ferry
