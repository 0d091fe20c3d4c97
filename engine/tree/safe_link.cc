#include "engine/tree/safe_link.h"

#include <cstddef>

namespace ferry {

bool IsUnsafeSymlink(std::string_view target, std::string_view link_path) {
  if (target.empty() || target.front() == '/') return true;
  // Depth of the link's directory below the top: its path's components but
  // the last ("." and empty ones do not count).
  size_t depth = 0;
  for (size_t b = 0; b < link_path.size();) {
    size_t e = link_path.find('/', b);
    if (e == std::string_view::npos) break;  // the link's own name
    std::string_view c = link_path.substr(b, e - b);
    if (c == "..") return true;  // a list path never has one; be safe
    if (!c.empty() && c != ".") ++depth;
    b = e + 1;
  }
  bool seen_normal = false;
  for (size_t b = 0; b <= target.size();) {
    size_t e = target.find('/', b);
    if (e == std::string_view::npos) e = target.size();
    std::string_view c = target.substr(b, e - b);
    b = e + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (seen_normal || depth == 0) return true;
      --depth;
    } else {
      seen_normal = true;
    }
  }
  return false;
}

}  // namespace ferry
