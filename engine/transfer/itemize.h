// rsync's --itemize-changes strings: "YXcstpoguax".
//   Y: '>' file data received, 'c' local create/change (dirs, links,
//      devices), 'h' hard link, '.' metadata only, '*' message (deleting)
//   X: f d L D S (file, dir, symlink, device, special)
//   then c s t p o g u a x: checksum/target, size, mtime, perms, owner,
//   group, atime, ACL, xattr; '+' everywhere for a new entry.
#pragma once

#include <cstdint>
#include <string>

namespace ferry {

struct ItemFlags {
  char update = '.';  // Y
  char type = 'f';    // X
  bool created = false;
  bool checksum = false, size = false, time = false, perms = false,
       owner = false, group = false, atime = false, acl = false,
       xattr = false;
  bool any_attr() const {
    return checksum || size || time || perms || owner || group || atime ||
           acl || xattr;
  }
};

std::string FormatItem(const ItemFlags& f);  // 11 characters
inline const char* kDeletingItem = "*deleting  ";

}  // namespace ferry
