// After all copies: hard-link followers, then directory metadata (mode,
// owner, xattrs, mtime), which must come after every change inside them.
// Also deletion, shared by --delete and type replacement.
#include <tbb/parallel_for.h>

#include "engine/transfer/context.h"
#include "engine/transfer/reuse.h"
#include "engine/tree/scan.h"

namespace ferry::transfer {

namespace {

void CollectDirs(DirNode* n, std::vector<DirNode*>* out) {
  out->push_back(n);
  for (auto& c : n->children) CollectDirs(c.get(), out);
}

}  // namespace

bool DeleteEntry(Context& ctx, int dirfd, const Entry& e, const std::string& rel,
                 bool is_delete) {
  io::IoBackend& io = ctx.io();
  bool kept = false;
  if (e.is_dir()) {
    io::UniqueFd sub;
    std::vector<Entry> entries;
    auto fd = io.OpenAt(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    if (fd.ok()) {
      auto l = ListDir(io, fd->get(), rel);
      if (l.ok()) entries = std::move(l).value();
      else { ctx.Error(rel, l.status()); return false; }
      sub = std::move(fd).value();
    } else if (fd.status().code() != ErrorCode::kNotFound) {
      ctx.Error(rel, PosixError("open directory", rel, fd.status().sys_errno()));
      return false;
    }
    for (const Entry& c : entries) {
      std::string crel = rel + "/" + c.name;
      if (ctx.reuse && ctx.reuse->Consumed(crel)) continue;  // renamed away (dry run)
      // An excluded file is protected from deletion, so its directory stays.
      if (is_delete && ctx.Excluded(crel, c.is_dir())) { kept = true; continue; }
      if (!DeleteEntry(ctx, sub.get(), c, crel, is_delete)) kept = true;
    }
    if (kept) {
      ctx.Warn("cannot delete non-empty directory: " + rel);
      return false;
    }
  }
  if (ctx.opt.max_delete >= 0 && is_delete &&
      ctx.deletes.fetch_add(1) >= ctx.opt.max_delete) {
    ctx.stats.delete_skipped.fetch_add(1, std::memory_order_relaxed);
    ctx.max_delete_hit = true;
    return false;
  }
  ctx.Deleting(e.is_dir() ? rel + "/" : rel);
  ctx.stats.deleted.fetch_add(1, std::memory_order_relaxed);
  if (ctx.opt.dry_run) return true;
  Status st = io.UnlinkAt(dirfd, e.name.c_str(), e.is_dir() ? AT_REMOVEDIR : 0);
  if (!st.ok() && st.code() != ErrorCode::kNotFound) {
    ctx.Error(rel, Status(st.code(), rel + ": " + st.message(), st.sys_errno()));
    return false;
  }
  return true;
}

void LinkFollowers(Context& ctx) {
  io::IoBackend& io = ctx.io();
  for (const HardLinkFollower& f : ctx.followers) {
    const Entry& s = f.node->src[f.index];
    const Entry& l = f.leader_node->src[f.leader_index];
    std::string rel = f.node->Join(s.name);
    std::string lrel = f.leader_node->Join(l.name);
    if (f.leader_node->action[f.leader_index] == Action::kFailed) {
      ctx.Error(rel, Status(ErrorCode::kIo, rel + ": not hard-linked: " + lrel + " failed"));
      continue;
    }
    ItemFlags item;
    item.update = 'h';
    item.type = 'f';
    item.created = true;
    if (ctx.opt.dry_run) {
      const Entry* d = f.node->dst_exists ? FindEntry(f.node->dst, s.name) : nullptr;
      const Entry* ld = f.leader_node->dst_exists ? FindEntry(f.leader_node->dst, l.name) : nullptr;
      bool linked = d && ld && d->ino == ld->ino && d->dev == ld->dev &&
                    f.leader_node->action[f.leader_index] == Action::kNone;
      if (!linked) ctx.Item(item, rel, " => " + lrel);
      continue;
    }
    auto fdir = io.OpenBeneath(ctx.dst_root.get(), f.node->rel, O_RDONLY | O_DIRECTORY, 0);
    auto ldir = io.OpenBeneath(ctx.dst_root.get(), f.leader_node->rel, O_RDONLY | O_DIRECTORY, 0);
    if (!fdir.ok() || !ldir.ok()) {
      Status e = fdir.ok() ? ldir.status() : fdir.status();
      ctx.Error(rel, Status(e.code(), rel + ": " + e.message(), e.sys_errno()));
      continue;
    }
    auto lst = io.StatAt(ldir->get(), l.name.c_str(), AT_SYMLINK_NOFOLLOW);
    if (!lst.ok()) {
      ctx.Error(rel, Status(lst.status().code(), rel + ": link target " + lrel + ": " +
                                                     lst.status().message()));
      continue;
    }
    auto cur = io.StatAt(fdir->get(), s.name.c_str(), AT_SYMLINK_NOFOLLOW);
    if (cur.ok() && cur->st_ino == lst->st_ino && cur->st_dev == lst->st_dev) continue;
    std::string tmp = ctx.TmpName(s.name);
    Status st = io.LinkAt(ldir->get(), l.name.c_str(), fdir->get(), tmp.c_str());
    if (st.ok()) {
      st = io.RenameAt(fdir->get(), tmp.c_str(), fdir->get(), s.name.c_str());
      if (!st.ok()) (void)io.UnlinkAt(fdir->get(), tmp.c_str(), 0);
    }
    if (!st.ok()) {
      ctx.Error(rel, Status(st.code(), rel + ": " + st.message(), st.sys_errno()));
      continue;
    }
    ctx.Item(item, rel, " => " + lrel);
    ctx.stats.hard_links.fetch_add(1, std::memory_order_relaxed);
    f.node->touched = true;
  }
}

void FinishDirs(Context& ctx) {
  std::vector<DirNode*> dirs;
  CollectDirs(ctx.root.get(), &dirs);
  tbb::parallel_for(size_t{0}, dirs.size(), [&](size_t k) {
    DirNode& n = *dirs[k];
    if (!n.has_self) return;
    if (n.dst_exists && n.meta_item.any_attr()) ctx.Item(n.meta_item, n.rel);
    if (ctx.opt.dry_run || !(n.meta_pending || n.touched)) return;
    io::IoBackend& io = ctx.io();
    auto fd = io.OpenBeneath(ctx.dst_root.get(), n.rel, O_RDONLY | O_DIRECTORY, 0);
    if (!fd.ok()) {
      // A directory whose creation failed was reported already.
      if (fd.status().code() != ErrorCode::kNotFound)
        ctx.Error(n.rel, PosixError("open directory", n.rel.empty() ? "." : n.rel,
                                    fd.status().sys_errno()));
      return;
    }
    // Compare against what is there now: our own changes moved the mtime, and
    // a new directory may have inherited a default ACL.
    auto st = io.FStat(fd->get());
    auto have = ReadKeptXattrs(io, ctx.meta, fd->get(), nullptr);
    Status s = st.ok() ? have.status() : st.status();
    if (s.ok()) {
      Entry cur = Entry::FromStat(n.self.name, *st);
      DstState ds;
      ds.existing = &cur;
      ds.xattrs = &*have;
      s = ApplyMeta(io, ctx.meta, fd->get(), nullptr, n.self, n.self_xattrs, ds);
    }
    if (!s.ok())
      ctx.Error(n.rel, Status(s.code(), (n.rel.empty() ? "." : n.rel) + ": " + s.message(),
                              s.sys_errno()));
  });
}

}  // namespace ferry::transfer
