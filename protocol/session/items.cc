#include "protocol/session/items.h"

#include "engine/transfer/itemize.h"

namespace ferry::protocol {

std::string DataItem(const MetaPolicy& p, bool checksum, const Entry& src, const Entry* dst,
                     bool content_differs) {
  ItemFlags f;
  f.update = '>';
  f.type = 'f';
  if (!dst || !dst->is_reg()) {
    f.created = true;
    return FormatItem(f);
  }
  f.checksum = content_differs && checksum;
  f.size = src.size != dst->size;
  f.time = p.times && !src.same_mtime(*dst);
  f.perms = p.perms && src.perms() != dst->perms();
  f.owner = p.owner && p.am_root && src.uid != dst->uid;
  f.group = p.group && src.gid != dst->gid;
  return FormatItem(f);
}

std::string MetaItem(const MetaDiff& d, const Entry& src) {
  ItemFlags f;
  f.update = '.';
  f.type = TypeLetter(src.mode);
  f.perms = d.perms;
  f.owner = d.owner;
  f.group = d.group;
  f.time = d.time;
  f.atime = d.atime;
  f.acl = d.acl;
  f.xattr = d.xattr;
  return FormatItem(f);
}

std::string NodeItem(const MetaPolicy& p, const Entry& src, const Entry* dst) {
  ItemFlags f;
  f.update = 'c';
  f.type = TypeLetter(src.mode);
  if (!dst || dst->type() != src.type()) {
    f.created = true;
  } else {
    f.checksum = true;
    f.time = p.times && !src.same_mtime(*dst);
  }
  return FormatItem(f);
}

}  // namespace ferry::protocol
