// Metadata of an entry beyond its content: owner, group, permissions, times,
// extended attributes and POSIX ACLs (the system.posix_acl_* xattrs), and how
// to compare and apply them.
//
// Thread safety: free functions over values; the backend is the caller's.
#pragma once

#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/tree/entry.h"

namespace ferry {

// Which metadata to preserve, resolved against who we are.
struct MetaPolicy {
  bool perms = true, times = true, owner = true, group = true;
  bool atimes = false, acls = true, xattrs = true;
  bool am_root = false;
};

// Whether an xattr is carried under the policy: ACLs with -A; with -X, every
// namespace as root and user.* otherwise (rsync's rule); other system.* never.
bool KeepXattr(const MetaPolicy& p, std::string_view name);
bool IsAclXattr(std::string_view name);
// Reads the kept xattrs of fd (name == nullptr) or dirfd/name. Returns an
// empty list when neither -A nor -X is on (no syscall).
Result<std::vector<io::Xattr>> ReadKeptXattrs(io::IoBackend& io,
                                              const MetaPolicy& p, int fd,
                                              const char* name);

struct MetaDiff {
  bool perms = false, owner = false, group = false, time = false,
       atime = false, acl = false, xattr = false;
  bool any() const {
    return perms || owner || group || time || atime || acl || xattr;
  }
};

// What differs between src and an existing dst entry of the same type.
MetaDiff CompareMeta(const MetaPolicy& p, const Entry& src, const Entry& dst,
                     const std::vector<io::Xattr>& src_x,
                     const std::vector<io::Xattr>& dst_x);

// The state of the destination entry metadata is applied to.
struct DstState {
  const Entry* existing = nullptr;  // null: we just created it
  // For a new entry: whether its permission bits already equal src's
  // (created with the exact mode and no umask/default-ACL interference).
  bool mode_exact = false;
  // Xattrs the entry has now; null means none (a fresh entry in a directory
  // without a default ACL).
  const std::vector<io::Xattr>* xattrs = nullptr;
  // For a new entry: the owner the kernel gave it (our euid, and our egid or
  // a setgid parent's group). -1: unknown, so chown is always done.
  uid_t new_uid = static_cast<uid_t>(-1);
  gid_t new_gid = static_cast<gid_t>(-1);
};

// Applies src's metadata to the open fd (file or directory) or, with name !=
// nullptr, to dirfd/name without following it (symlinks, devices, specials).
// Order: owner, mode, xattrs, times (so nothing after it moves the mtime).
// Owner changes the caller may not make (not root) are not attempted.
Status ApplyMeta(io::IoBackend& io, const MetaPolicy& p, int fd,
                 const char* name, const Entry& src,
                 const std::vector<io::Xattr>& src_x, const DstState& dst);

}  // namespace ferry
