// Scan and plan: list SRC and DST directory by directory in parallel, then
// decide per entry what to do and count the totals progress needs.
#include <tbb/parallel_for.h>

#include <map>
#include <utility>

#include "engine/mail/maildir.h"
#include "engine/transfer/context.h"
#include "engine/tree/scan.h"

namespace ferry::transfer {

namespace {

// Whether an entry of this type is transferred at all under the options.
bool Wanted(const Context& ctx, const Entry& e) {
  if (e.is_dir()) return ctx.opt.recursive;
  if (e.is_lnk()) return ctx.opt.links;
  if (e.is_dev()) return ctx.opt.devices;
  if (e.is_special()) return ctx.opt.specials;
  return e.is_reg();
}

void ScanDir(Context& ctx, DirNode* node);

// Large directories (a Maildir's cur/ holds most of an account) are listed
// once and stat'ed in parallel chunks, each on its thread's backend.
constexpr size_t kStatChunk = 1024;

Result<std::vector<Entry>> ListDirParallel(Context& ctx, int dirfd,
                                           const std::string& display) {
  auto names = ctx.io().ReadDir(dirfd);
  if (!names.ok())
    return PosixError("read directory", display.empty() ? "." : display,
                      names.status().sys_errno());
  std::vector<Entry> out(names->size());
  if (names->size() <= kStatChunk) {
    RETURN_IF_ERROR(StatNames(ctx.io(), dirfd, display, *names, 0, names->size(), out));
  } else {
    std::mutex mu;
    Status first;
    tbb::parallel_for(size_t{0}, (names->size() + kStatChunk - 1) / kStatChunk, [&](size_t c) {
      size_t b = c * kStatChunk, e = std::min(names->size(), b + kStatChunk);
      Status s = StatNames(ctx.io(), dirfd, display, *names, b, e, out);
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first.ok()) first = s;
      }
    });
    RETURN_IF_ERROR(first);
  }
  FinishListing(out);
  return out;
}

void SpawnChildren(Context& ctx, DirNode* node) {
  for (uint32_t i = 0; i < node->src.size(); ++i) {
    const Entry& e = node->src[i];
    if (!e.is_dir()) continue;
    auto child = std::make_unique<DirNode>();
    child->rel = node->Join(e.name);
    child->self = e;
    child->has_self = true;
    const Entry* d = node->dst_exists ? FindEntry(node->dst, e.name) : nullptr;
    if (d && d->is_dir()) {
      child->dst_exists = true;
      child->dst_self = *d;
    }
    if (node->maildir)
      child->mail_sub = e.name == "tmp" ? DirNode::kMailTmp
                        : (e.name == "cur" || e.name == "new") ? DirNode::kMailMessages
                                                               : 0;
    DirNode* raw = child.get();
    node->children.push_back(std::move(child));
    node->child_src_index.push_back(i);
    ctx.tasks.run([&ctx, raw] { ScanDir(ctx, raw); });
  }
}

void CountScanned(Context& ctx, const std::vector<Entry>& v) {
  uint64_t reg = 0, dirs = 0, links = 0, other = 0, bytes = 0;
  for (const Entry& e : v) {
    if (e.is_reg()) {
      ++reg;
      bytes += e.size;
    } else if (e.is_dir()) {
      ++dirs;
    } else if (e.is_lnk()) {
      ++links;
    } else {
      ++other;
    }
  }
  ctx.stats.files += v.size();
  ctx.stats.reg_files += reg;
  ctx.stats.dirs += dirs;
  ctx.stats.symlinks += links;
  ctx.stats.specials += other;
  ctx.stats.total_size += bytes;
}

// --mail: a folder is known by its cur/ new/ tmp/ subdirectories (before
// filters, which may hide tmp/). Its tmp/ holds half-delivered messages,
// which are not mail yet: they are not copied (and KeepOnDst keeps DST's).
void MarkMaildir(const Context& ctx, DirNode* node) {
  if (node->mail_sub == DirNode::kMailTmp) {
    node->src.clear();
    return;
  }
  auto has_dir = [&](const char* n) {
    const Entry* e = FindEntry(node->src, n);
    return e && e->is_dir();
  };
  node->maildir = mail::IsMaildirFolder(ctx.opt.mail, has_dir("cur"), has_dir("new"),
                                        has_dir("tmp"));
}

void ScanDir(Context& ctx, DirNode* node) {
  io::IoBackend& io = ctx.io();
  auto sfd = io.OpenBeneath(ctx.src_root.get(), node->rel,
                            O_RDONLY | O_DIRECTORY, 0);
  if (!sfd.ok()) {
    if (sfd.status().code() == ErrorCode::kNotFound)
      ctx.Vanished(node->rel + "/");
    else
      ctx.Error(node->rel, PosixError("open directory", node->rel, sfd.status().sys_errno()));
    node->src.clear();
    node->has_self = false;  // nothing to mirror: leave DST's copy alone
    node->dst_exists = false;
    node->scan_failed = true;
    return;
  }
  auto listed = ListDirParallel(ctx, sfd->get(), node->rel);
  if (!listed.ok()) {
    ctx.Error(node->rel, listed.status());
    node->has_self = false;
    node->dst_exists = false;
    node->scan_failed = true;
    return;
  }
  node->src = std::move(listed).value();
  MarkMaildir(ctx, node);
  std::erase_if(node->src, [&](const Entry& e) {
    return !Wanted(ctx, e) || ctx.Excluded(node->Join(e.name), e.is_dir());
  });
  CountScanned(ctx, node->src);
  if (node->has_self) {
    auto x = ReadKeptXattrs(io, ctx.meta, sfd->get(), nullptr);
    if (x.ok()) node->self_xattrs = std::move(x).value();
    else ctx.Error(node->rel, x.status().WithContext(node->rel.empty() ? "." : node->rel));
  }
  if (node->dst_exists) {
    auto dfd = io.OpenBeneath(ctx.dst_root.get(), node->rel,
                              O_RDONLY | O_DIRECTORY, 0);
    if (dfd.ok()) {
      auto dl = ListDirParallel(ctx, dfd->get(), node->rel);
      if (dl.ok()) {
        node->dst = std::move(dl).value();
        auto x = ReadKeptXattrs(io, ctx.meta, dfd->get(), nullptr);
        if (x.ok()) {
          node->dst_xattrs = std::move(x).value();
          for (const io::Xattr& a : node->dst_xattrs)
            if (a.name == "system.posix_acl_default") node->dst_default_acl = true;
        }
      } else {
        ctx.Error(node->rel, dl.status());
      }
    } else if (dfd.status().code() == ErrorCode::kNotFound ||
               dfd.status().sys_errno() == ELOOP ||
               dfd.status().sys_errno() == EXDEV) {
      // Gone, or replaced by a symlink since the parent was listed: treat it
      // as absent; creating it will replace whatever is there.
      node->dst_exists = false;
    } else {
      ctx.Error(node->rel, PosixError("open directory", node->rel, dfd.status().sys_errno()));
    }
  }
  SpawnChildren(ctx, node);
}

// Regular files: unchanged when size and mtime match (or the content hash,
// with --checksum, which copy_file.cc checks when it gets there).
bool NeedsData(const Context& ctx, const Entry& s, const Entry* d) {
  if (!d || !d->is_reg()) return true;
  if (s.size != d->size) return true;
  if (ctx.opt.checksum) return false;  // decided by content in ExecTree
  return !(ctx.opt.times ? s.same_mtime(*d) : true);
}

void PlanDir(Context& ctx, DirNode* node,
             std::map<std::pair<uint64_t, uint64_t>, std::pair<DirNode*, uint32_t>>&
                 leaders) {
  node->action.assign(node->src.size(), Action::kNone);
  for (uint32_t i = 0; i < node->src.size(); ++i) {
    const Entry& s = node->src[i];
    const Entry* d = node->dst_exists ? FindEntry(node->dst, s.name) : nullptr;
    Action a = Action::kNone;
    if (s.is_reg()) {
      if (ctx.opt.hard_links && s.nlink > 1) {
        auto [it, first] = leaders.try_emplace({s.dev, s.ino}, node, i);
        if (!first) {
          node->action[i] = Action::kLink;
          ctx.followers.push_back({node, i, it->second.first, it->second.second});
          continue;
        }
      }
      if (NeedsData(ctx, s, d)) {
        a = Action::kCopy;
        ctx.stats.planned_files.fetch_add(1, std::memory_order_relaxed);
        ctx.stats.planned_bytes.fetch_add(s.size, std::memory_order_relaxed);
      }
    } else if (!s.is_dir()) {
      if (!d || d->type() != s.type()) a = Action::kCreate;
      else if ((s.is_dev() || s.is_special()) && d->rdev != s.rdev) a = Action::kCreate;
      else if (s.is_lnk() && s.size != d->size) a = Action::kCreate;
      // Same-length symlinks: targets are compared in ExecTree.
    } else if (!d || !d->is_dir()) {
      a = Action::kCreate;
    }
    node->action[i] = a;
  }
  for (auto& c : node->children) PlanDir(ctx, c.get(), leaders);
}

}  // namespace

Status ScanTree(Context& ctx, const Entry* root_src, const Entry* root_dst) {
  ctx.root = std::make_unique<DirNode>();
  DirNode* root = ctx.root.get();
  // RunLocalSync created DST's root if it was missing, except in a dry run.
  root->dst_exists = ctx.dst_root.valid();
  if (ctx.single) {
    // A virtual root holding the one named entry.
    Entry e = *root_src;
    root->src.push_back(std::move(e));
    std::erase_if(root->src, [&](const Entry& x) {
      return !Wanted(ctx, x) || ctx.Excluded(x.name, x.is_dir());
    });
    CountScanned(ctx, root->src);
    if (root_dst) root->dst.push_back(*root_dst);
    SpawnChildren(ctx, root);
  } else {
    root->self = *root_src;
    root->has_self = true;
    if (root_dst) root->dst_self = *root_dst;
    ctx.tasks.run([&ctx, root] { ScanDir(ctx, root); });
  }
  ctx.tasks.wait();
  return Status::Ok();
}

void PlanTree(Context& ctx) {
  std::map<std::pair<uint64_t, uint64_t>, std::pair<DirNode*, uint32_t>> leaders;
  PlanDir(ctx, ctx.root.get(), leaders);
  ctx.Planned();
}

}  // namespace ferry::transfer
