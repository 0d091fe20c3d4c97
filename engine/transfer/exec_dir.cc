// Execute the plan for one directory: deletions, directory and special-file
// creation, metadata-only updates; regular-file copies go to copy_file.cc in
// batches that run as their own tasks.
#include <unistd.h>

#include <algorithm>

#include "engine/transfer/context.h"
#include "engine/transfer/reuse.h"
#include "engine/tree/safe_link.h"
#include "engine/tree/scan.h"

namespace ferry::transfer {

// Small files are read and written in batches; larger ones one by one with
// copy_file_range / reflink.
constexpr uint64_t kSmallFileMax = 256 * 1024;
constexpr size_t kBatchFiles = 64;
constexpr uint64_t kBatchBytes = 8 << 20;
constexpr size_t kMetaChunk = 512;

namespace {

ItemFlags MetaItem(const MetaDiff& d, char update, const Entry& s) {
  ItemFlags f;
  f.update = update;
  f.type = TypeLetter(s.mode);
  f.perms = d.perms;
  f.owner = d.owner;
  f.group = d.group;
  f.time = d.time;
  f.atime = d.atime;
  f.acl = d.acl;
  f.xattr = d.xattr;
  return f;
}

void ReportUnsafeLink(Context& ctx, const std::string& rel, const std::string& target) {
  ctx.Warn("ignoring unsafe symlink '" + rel + "' -> '" + target + "'");
  ctx.stats.unsafe_links.fetch_add(1, std::memory_order_relaxed);
}

// --safe-links: an unsafe link is reported and left out before anything
// happens to DST's entry of that name (rsync leaves that entry alone, and
// --delete keeps it, since the name is in the source list).
bool IgnoredUnsafeLink(Context& ctx, DirNode& node, DirFds& fds, uint32_t i) {
  const Entry& s = node.src[i];
  if (!ctx.opt.safe_links || !s.is_lnk()) return false;
  auto t = ctx.io().ReadLinkAt(fds.src.get(), ctx.SrcName(node, s));
  if (!t.ok()) return false;  // CreateOther reports it
  const std::string rel = node.Join(s.name);
  if (!IsUnsafeSymlink(*t, rel)) return false;
  ReportUnsafeLink(ctx, rel, *t);
  node.action[i] = Action::kNone;
  return true;
}

// Creates a symlink, device or special file under a temporary name, applies
// its metadata and renames it over whatever DST has under the final name.
void CreateOther(Context& ctx, DirNode& node, DirFds& fds, uint32_t i,
                 const Entry* d) {
  io::IoBackend& io = ctx.io();
  const Entry& s = node.src[i];
  std::string rel = node.Join(s.name);
  std::string target;
  if (s.is_lnk()) {
    auto t = io.ReadLinkAt(fds.src.get(), ctx.SrcName(node, s));
    if (!t.ok()) {
      if (t.status().code() == ErrorCode::kNotFound) ctx.Vanished(rel);
      else ctx.Error(rel, PosixError("readlink", rel, t.status().sys_errno()));
      node.action[i] = Action::kFailed;
      return;
    }
    target = std::move(t).value();
    // Judged again on the target read here, the one that would be created:
    // the link may have changed since IgnoredUnsafeLink read it.
    if (ctx.opt.safe_links && IsUnsafeSymlink(target, rel)) {
      ReportUnsafeLink(ctx, rel, target);
      node.action[i] = Action::kNone;
      return;
    }
    if (d && d->is_lnk()) {
      auto dt = io.ReadLinkAt(fds.dst.get(), s.name.c_str());
      if (dt.ok() && *dt == target) {
        node.action[i] = Action::kNone;
        UpdateMeta(ctx, node, fds, i, *d, " -> " + target);
        return;
      }
    }
  }
  ItemFlags f;
  f.update = 'c';
  f.type = TypeLetter(s.mode);
  if (!d || d->type() != s.type()) {
    f.created = true;
  } else {
    f.checksum = true;  // symlink target or device number changed
    f.time = ctx.meta.times && !s.same_mtime(*d);
  }
  ctx.Item(f, rel, s.is_lnk() ? " -> " + target : "");
  ctx.stats.created.fetch_add(1, std::memory_order_relaxed);
  if (ctx.opt.dry_run) return;

  std::string tmp = ctx.TmpName(s.name);
  Status st = s.is_lnk()
                  ? io.SymlinkAt(target.c_str(), fds.dst.get(), tmp.c_str())
                  : io.MknodAt(fds.dst.get(), tmp.c_str(), s.mode & (S_IFMT | 0777),
                               static_cast<dev_t>(s.rdev));
  if (st.ok()) {
    // Symlinks carry xattrs too (trusted.* and security.* as root).
    std::vector<io::Xattr> sx;
    auto x = ReadKeptXattrs(io, ctx.meta, fds.src.get(), ctx.SrcName(node, s));
    if (x.ok()) sx = std::move(x).value();
    else st = x.status();
    DstState ds;
    node.NewEntryState(ctx.umask_zero, &ds);
    std::vector<io::Xattr> inherited;
    if (st.ok() && node.dst_default_acl && !s.is_lnk()) {  // links inherit no ACL
      auto x = ReadKeptXattrs(io, ctx.meta, fds.dst.get(), tmp.c_str());
      if (x.ok()) inherited = std::move(x).value();
      ds.xattrs = &inherited;
    }
    if (st.ok()) st = ApplyMeta(io, ctx.meta, fds.dst.get(), tmp.c_str(), s, sx, ds);
    if (st.ok()) st = io.RenameAt(fds.dst.get(), tmp.c_str(), fds.dst.get(), s.name.c_str());
    if (!st.ok()) (void)io.UnlinkAt(fds.dst.get(), tmp.c_str(), 0);
  }
  if (!st.ok()) {
    ctx.Error(rel, Status(st.code(), rel + ": " + st.message(), st.sys_errno()));
    node.action[i] = Action::kFailed;
    return;
  }
  node.touched = true;
}

// Clears the way for a non-directory where DST has a directory (or the
// reverse). A non-empty directory goes only with --delete, as in rsync.
bool ClearTypeConflict(Context& ctx, DirNode& node, DirFds& fds, const Entry& s,
                       const Entry& d) {
  if (s.is_dir() == d.is_dir()) return true;
  std::string rel = node.Join(d.name);
  if (ctx.opt.dry_run) return true;
  if (d.is_dir() && !ctx.opt.del) {
    Status st = ctx.io().UnlinkAt(fds.dst.get(), d.name.c_str(), AT_REMOVEDIR);
    if (!st.ok()) {
      ctx.Error(rel, Status(st.code(),
                            "cannot replace non-empty directory " + rel +
                                " (use --delete): " + st.message(),
                            st.sys_errno()));
      return false;
    }
    node.touched = true;
    return true;
  }
  bool ok = DeleteEntry(ctx, fds.dst.get(), d, rel, /*is_delete=*/false);
  node.touched = true;
  return ok;
}

void ExecDir(Context& ctx, DirNode* node);

}  // namespace

void UpdateMeta(Context& ctx, DirNode& node, DirFds& fds, uint32_t i,
                const Entry& d, const std::string& item_suffix) {
  io::IoBackend& io = ctx.io();
  const Entry& s = node.src[i];
  std::string rel = node.Join(s.name);
  auto a = ReadKeptXattrs(io, ctx.meta, fds.src.get(), ctx.SrcName(node, s));
  auto b = ReadKeptXattrs(io, ctx.meta, fds.dst.get(), s.name.c_str());
  if (!a.ok() || !b.ok()) {
    Status e = a.ok() ? b.status() : a.status();
    if (e.code() == ErrorCode::kNotFound) ctx.Vanished(rel);
    else ctx.Error(rel, Status(e.code(), rel + ": " + e.message(), e.sys_errno()));
    return;
  }
  std::vector<io::Xattr> sx = std::move(a).value(), dx = std::move(b).value();
  MetaDiff diff = CompareMeta(ctx.meta, s, d, sx, dx);
  if (!diff.any()) return;
  ctx.Item(MetaItem(diff, '.', s), rel, item_suffix);
  ctx.stats.meta_updates.fetch_add(1, std::memory_order_relaxed);
  if (ctx.opt.dry_run) return;
  DstState ds;
  ds.existing = &d;
  ds.xattrs = &dx;
  Status st;
  if (s.is_reg()) {
    // Through an fd checked against the scan, so a path swapped for a
    // symlink since cannot redirect the chmod/chown.
    auto fd = io.OpenAt(fds.dst.get(), s.name.c_str(),
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
    if (!fd.ok()) {
      st = fd.status();
    } else {
      auto now = io.FStat(fd->get());
      if (!now.ok()) st = now.status();
      else if (now->st_ino != d.ino)
        st = Status(ErrorCode::kChanged, "replaced during the sync");
      else st = ApplyMeta(io, ctx.meta, fd->get(), nullptr, s, sx, ds);
    }
  } else {
    st = ApplyMeta(io, ctx.meta, fds.dst.get(), s.name.c_str(), s, sx, ds);
  }
  if (!st.ok()) ctx.Error(rel, Status(st.code(), rel + ": " + st.message(), st.sys_errno()));
}

namespace {

void ExecDir(Context& ctx, DirNode* node) {
  if (node->scan_failed) return;  // already reported; DST's copy is left alone
  io::IoBackend& io = ctx.io();
  auto fds = std::make_shared<DirFds>();
  auto sfd = io.OpenBeneath(ctx.src_root.get(), node->rel, O_RDONLY | O_DIRECTORY, 0);
  if (!sfd.ok()) {
    if (sfd.status().code() == ErrorCode::kNotFound) ctx.Vanished(node->rel + "/");
    else ctx.Error(node->rel, PosixError("open directory", node->rel, sfd.status().sys_errno()));
    return;
  }
  fds->src = std::move(sfd).value();
  bool dst_present = !ctx.opt.dry_run || node->dst_exists;
  if (dst_present) {
    auto dfd = io.OpenBeneath(ctx.dst_root.get(), node->rel, O_RDONLY | O_DIRECTORY, 0);
    if (!dfd.ok()) {
      ctx.Error(node->rel, PosixError("open directory", node->rel.empty() ? "." : node->rel,
                                      dfd.status().sys_errno()));
      return;
    }
    fds->dst = std::move(dfd).value();
    auto dst_st = io.FStat(fds->dst.get());
    if (dst_st.ok()) {
      node->new_uid = geteuid();
      node->new_gid = (dst_st->st_mode & S_ISGID) ? dst_st->st_gid : getegid();
    }
  }

  // Directory metadata is applied after all contents (finish.cc); here we
  // only find out whether an existing directory differs.
  if (node->has_self) {
    if (node->dst_exists) {
      MetaDiff diff = CompareMeta(ctx.meta, node->self, node->dst_self,
                                  node->self_xattrs, node->dst_xattrs);
      node->meta_item = MetaItem(diff, '.', node->self);
      node->meta_pending = diff.any();
      // Not root: a read-only directory must be writable while we fill it.
      if (!ctx.meta.am_root && !ctx.opt.dry_run &&
          (node->dst_self.perms() & 0700) != 0700) {
        if (io.FChmod(fds->dst.get(), node->dst_self.perms() | 0700).ok())
          node->meta_pending = true;
      }
    } else {
      node->meta_pending = true;
    }
  }

  // Entries only DST has: stale temporaries of an interrupted run always go;
  // everything else only with --delete, and never what a filter excludes.
  if (node->dst_exists) {
    for (const Entry& d : node->dst) {
      if (FindEntry(node->src, d.name)) continue;
      if (Context::IsStaleTmp(d.name) && d.is_reg()) {
        if (!ctx.opt.dry_run) {
          (void)io.UnlinkAt(fds->dst.get(), d.name.c_str(), 0);
          node->touched = true;
        }
        continue;
      }
      if (!ctx.opt.del || KeepOnDst(ctx, *node, d)) continue;
      std::string rel = node->Join(d.name);
      if (ctx.Excluded(rel, d.is_dir())) continue;
      DeleteEntry(ctx, fds->dst.get(), d, rel, /*is_delete=*/true);
      node->touched = true;
    }
  }

  std::vector<uint32_t> small, checks, metas;
  uint64_t small_bytes = 0;
  auto flush_small = [&] {
    if (small.empty()) return;
    ctx.tasks.run([&ctx, node, fds, v = std::move(small)] { CopyFiles(ctx, *node, fds, v); });
    small.clear();
    small_bytes = 0;
  };
  std::vector<bool> skip_child(node->src.size(), false);
  for (uint32_t i = 0; i < node->src.size(); ++i) {
    const Entry& s = node->src[i];
    const Entry* d = node->dst_exists ? FindEntry(node->dst, s.name) : nullptr;
    if (IgnoredUnsafeLink(ctx, *node, *fds, i)) continue;
    if (d && !ClearTypeConflict(ctx, *node, *fds, s, *d)) {
      node->action[i] = Action::kFailed;
      skip_child[i] = true;
      continue;
    }
    if (d && s.is_dir() != d->is_dir()) d = nullptr;  // it is gone now
    switch (node->action[i]) {
      case Action::kNone:
        if (s.is_dir()) break;
        if (s.is_reg() && ctx.opt.checksum && d) {
          checks.push_back(i);
        } else if (s.is_lnk() && d) {
          CreateOther(ctx, *node, *fds, i, d);  // compares targets first
        } else if (d) {
          metas.push_back(i);  // compared in parallel chunks below
        }
        break;
      case Action::kCreate:
        if (s.is_dir()) {
          ItemFlags f;
          f.update = 'c';
          f.type = 'd';
          f.created = true;
          ctx.Item(f, node->Join(s.name));
          ctx.stats.created.fetch_add(1, std::memory_order_relaxed);
          if (ctx.opt.dry_run) break;
          // Owner-only until finish.cc applies the real mode after the
          // contents are in.
          Status st = io.MkdirAt(fds->dst.get(), s.name.c_str(), 0700);
          if (!st.ok()) {
            ctx.Error(node->Join(s.name), PosixError("mkdir", node->Join(s.name), st.sys_errno()));
            node->action[i] = Action::kFailed;
            skip_child[i] = true;
          } else {
            node->touched = true;
          }
        } else {
          CreateOther(ctx, *node, *fds, i, d);
        }
        break;
      case Action::kCopy:
        if (TakeOver(ctx, node, fds, i)) break;
        if (s.size <= kSmallFileMax && !s.looks_sparse() &&
            (ctx.opt.whole_file || !d) && !AppendEligible(ctx, s, d)) {
          small.push_back(i);
          small_bytes += s.size;
          if (small.size() >= kBatchFiles || small_bytes >= kBatchBytes) flush_small();
        } else {
          ctx.tasks.run([&ctx, node, fds, i] { CopyFiles(ctx, *node, fds, {i}); });
        }
        break;
      case Action::kLink:
      case Action::kFailed:
        break;
    }
  }
  flush_small();
  for (size_t k = 0; k < checks.size(); k += kBatchFiles) {
    std::vector<uint32_t> part(checks.begin() + static_cast<long>(k),
                               checks.begin() + static_cast<long>(std::min(checks.size(), k + kBatchFiles)));
    ctx.tasks.run([&ctx, node, fds, part = std::move(part)] { ChecksumFiles(ctx, *node, fds, part); });
  }
  // Up-to-date entries still get their metadata compared (two listxattr
  // each): in chunks, so one huge directory uses every core.
  for (size_t k = 0; k < metas.size(); k += kMetaChunk) {
    size_t e = std::min(metas.size(), k + kMetaChunk);
    std::vector<uint32_t> part(metas.begin() + static_cast<long>(k),
                               metas.begin() + static_cast<long>(e));
    ctx.tasks.run([&ctx, node, fds, part = std::move(part)] {
      for (uint32_t i : part)
        UpdateMeta(ctx, *node, *fds, i, *FindEntry(node->dst, node->src[i].name));
    });
  }
  for (size_t c = 0; c < node->children.size(); ++c) {
    if (skip_child[node->child_src_index[c]]) continue;
    DirNode* child = node->children[c].get();
    ctx.tasks.run([&ctx, child] { ExecDir(ctx, child); });
  }
}

}  // namespace

void ExecTree(Context& ctx) {
  DirNode* root = ctx.root.get();
  ctx.tasks.run([&ctx, root] { ExecDir(ctx, root); });
  ctx.tasks.wait();
}

}  // namespace ferry::transfer
