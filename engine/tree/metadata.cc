#include "engine/tree/metadata.h"

#include <unistd.h>

#include <algorithm>

namespace ferry {

bool IsAclXattr(std::string_view name) {
  return name == "system.posix_acl_access" || name == "system.posix_acl_default";
}

bool KeepXattr(const MetaPolicy& p, std::string_view name) {
  if (IsAclXattr(name)) return p.acls;
  if (!p.xattrs) return false;
  if (name.starts_with("system.")) return false;
  return p.am_root || name.starts_with("user.");
}

Result<std::vector<io::Xattr>> ReadKeptXattrs(io::IoBackend& io,
                                              const MetaPolicy& p, int fd,
                                              const char* name) {
  if (!p.acls && !p.xattrs) return std::vector<io::Xattr>{};
  ASSIGN_OR_RETURN(std::vector<io::Xattr> all, io.ReadXattrs(fd, name));
  std::erase_if(all, [&](const io::Xattr& x) { return !KeepXattr(p, x.name); });
  return all;
}

namespace {

// Compares two sorted xattr lists, restricted to ACL or non-ACL names.
bool XattrsDiffer(const std::vector<io::Xattr>& a,
                  const std::vector<io::Xattr>& b, bool acl) {
  auto pick = [acl](const std::vector<io::Xattr>& v) {
    std::vector<const io::Xattr*> out;
    for (const io::Xattr& x : v)
      if (IsAclXattr(x.name) == acl) out.push_back(&x);
    return out;
  };
  auto pa = pick(a), pb = pick(b);
  if (pa.size() != pb.size()) return true;
  for (size_t i = 0; i < pa.size(); ++i)
    if (pa[i]->name != pb[i]->name || pa[i]->value != pb[i]->value) return true;
  return false;
}

}  // namespace

MetaDiff CompareMeta(const MetaPolicy& p, const Entry& src, const Entry& dst,
                     const std::vector<io::Xattr>& src_x,
                     const std::vector<io::Xattr>& dst_x) {
  MetaDiff d;
  // Linux symlinks have no mode of their own.
  d.perms = p.perms && !src.is_lnk() && src.perms() != dst.perms();
  d.owner = p.owner && p.am_root && src.uid != dst.uid;
  d.group = p.group && src.gid != dst.gid;
  d.time = p.times && !src.same_mtime(dst);
  d.atime = p.atimes && !src.is_dir() &&
            (src.atime_sec != dst.atime_sec || src.atime_nsec != dst.atime_nsec);
  d.acl = p.acls && XattrsDiffer(src_x, dst_x, true);
  d.xattr = p.xattrs && XattrsDiffer(src_x, dst_x, false);
  return d;
}

Status ApplyMeta(io::IoBackend& io, const MetaPolicy& p, int fd,
                 const char* name, const Entry& src,
                 const std::vector<io::Xattr>& src_x, const DstState& dst) {
  const Entry* ex = dst.existing;
  bool chowned = false;
  // Owner and group, only where they differ from what the entry has. Not
  // root: only the group (the kernel refuses groups we are not in).
  uid_t have_uid = ex ? ex->uid : dst.new_uid;
  gid_t have_gid = ex ? ex->gid : dst.new_gid;
  if (p.owner && p.am_root) {
    if (have_uid != src.uid || (p.group && have_gid != src.gid)) {
      gid_t g = p.group ? src.gid : static_cast<gid_t>(-1);
      RETURN_IF_ERROR(name ? io.ChownAt(fd, name, src.uid, g)
                           : io.FChown(fd, src.uid, g));
      chowned = true;
    }
  } else if (p.group) {
    if (have_gid != src.gid) {
      Status s = name ? io.ChownAt(fd, name, static_cast<uid_t>(-1), src.gid)
                      : io.FChown(fd, static_cast<uid_t>(-1), src.gid);
      // rsync quietly keeps the default group when we may not set it.
      if (!s.ok() && s.code() != ErrorCode::kPermission) return s;
      chowned = s.ok();
    }
  }
  // Permissions. chown clears set-id bits, so they are set again after it.
  if (p.perms && !src.is_lnk()) {
    // New entries are created with the 0777 bits only: set-id and sticky bits
    // always need the explicit chmod.
    bool need = ex ? (ex->perms() != src.perms())
                   : (!dst.mode_exact || (src.perms() & 07000) != 0);
    if (chowned && (src.perms() & 06000)) need = true;
    if (need) {
      RETURN_IF_ERROR(name ? io.ChmodAt(fd, name, src.perms())
                           : io.FChmod(fd, src.perms()));
    }
  }
  // Xattrs and ACLs: set what differs, remove what src lacks.
  if (p.xattrs || p.acls) {
    static const std::vector<io::Xattr> kNone;
    const std::vector<io::Xattr>& have = dst.xattrs ? *dst.xattrs : kNone;
    for (const io::Xattr& x : src_x) {
      auto it = std::find_if(have.begin(), have.end(),
                             [&](const io::Xattr& h) { return h.name == x.name; });
      if (it != have.end() && it->value == x.value) continue;
      RETURN_IF_ERROR(io.SetXattr(fd, name, x));
    }
    for (const io::Xattr& h : have) {
      if (!KeepXattr(p, h.name)) continue;
      bool in_src = std::any_of(src_x.begin(), src_x.end(),
                                [&](const io::Xattr& x) { return x.name == h.name; });
      if (!in_src) RETURN_IF_ERROR(io.RemoveXattr(fd, name, h.name));
    }
  }
  // Times last: nothing after this may move the mtime.
  if (p.times || p.atimes) {
    bool need = !ex || (p.times && !src.same_mtime(*ex)) ||
                (p.atimes && (ex->atime_sec != src.atime_sec ||
                              ex->atime_nsec != src.atime_nsec));
    if (need) {
      struct timespec ts[2];
      ts[0].tv_sec = src.atime_sec;
      ts[0].tv_nsec = p.atimes ? src.atime_nsec : UTIME_OMIT;
      ts[1].tv_sec = src.mtime_sec;
      ts[1].tv_nsec = p.times ? src.mtime_nsec : UTIME_OMIT;
      RETURN_IF_ERROR(name ? io.UtimensAt(fd, name, ts) : io.FUtimens(fd, ts));
    }
  }
  return Status::Ok();
}

}  // namespace ferry
