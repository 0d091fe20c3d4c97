// Small path-string helpers shared by the commands that take rsync-style
// SRC and DST arguments (sync, verify). Pure string work, no I/O.
#pragma once

#include <string>
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

}  // namespace ferry
