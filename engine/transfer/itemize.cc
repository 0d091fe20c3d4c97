#include "engine/transfer/itemize.h"

namespace ferry {

std::string FormatItem(const ItemFlags& f) {
  std::string s(11, '.');
  s[0] = f.update;
  s[1] = f.type;
  if (f.created) {
    for (int i = 2; i < 11; ++i) s[static_cast<size_t>(i)] = '+';
    return s;
  }
  if (f.checksum) s[2] = 'c';
  if (f.size) s[3] = 's';
  if (f.time) s[4] = 't';
  if (f.perms) s[5] = 'p';
  if (f.owner) s[6] = 'o';
  if (f.group) s[7] = 'g';
  if (f.atime) s[8] = 'u';
  if (f.acl) s[9] = 'a';
  if (f.xattr) s[10] = 'x';
  return s;
}

}  // namespace ferry
