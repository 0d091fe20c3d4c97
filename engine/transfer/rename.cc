// Rename and move detection: a file new at its SRC path whose content DST
// already holds at a path this sync deletes (or that SRC no longer has) is
// made by renaming that DST file; when the old path must stay, by copying it
// within DST. No data is read from SRC for it beyond the hash that confirms
// the pair.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <unordered_set>

#include "engine/base/hash.h"
#include "engine/mail/maildir.h"
#include "engine/transfer/context.h"
#include "engine/transfer/rename_index.h"
#include "engine/transfer/reuse.h"
#include "engine/tree/scan.h"

namespace ferry::transfer {

namespace {

// Candidates hashed per target at most: a tree of equal-sized files with one
// mtime (an extracted archive) must not turn into N x M hashing.
constexpr size_t kMaxCandidates = 8;

struct TargetRef {
  DirNode* node;
  uint32_t index;
};

std::string_view LastComponent(const std::string& rel) {
  size_t s = rel.rfind('/');
  return s == std::string::npos ? std::string_view(rel) : std::string_view(rel).substr(s + 1);
}

RenameHint HintOf(const Entry& e, bool message) {
  RenameHint h;
  h.size = e.size;
  h.mtime_sec = e.mtime_sec;
  h.mtime_nsec = e.mtime_nsec;
  if (message) h.mail_base = mail::MaildirBaseName(e.name);
  return h;
}

bool Usable(const Entry& e) { return e.is_reg() && e.size > 0 && !Context::IsStaleTmp(e.name); }

bool SameAsListed(const Entry& e, const struct stat& st) {
  return S_ISREG(st.st_mode) && st.st_ino == e.ino && st.st_dev == e.dev &&
         static_cast<uint64_t>(st.st_size) == e.size && st.st_mtim.tv_sec == e.mtime_sec &&
         static_cast<uint32_t>(st.st_mtim.tv_nsec) == e.mtime_nsec;
}

// XXH3-128 of dir_rel/name beneath root, when it is still the listed file.
std::optional<Hash128> HashListed(io::IoBackend& io, int root, const std::string& dir_rel,
                                  const char* name, const Entry& e) {
  auto dir = io.OpenBeneath(root, dir_rel, O_RDONLY | O_DIRECTORY, 0);
  if (!dir.ok()) return std::nullopt;
  auto fd = io.OpenAt(dir->get(), name, O_RDONLY | O_NOFOLLOW, 0);
  if (!fd.ok()) return std::nullopt;
  auto st = io.FStat(fd->get());
  if (!st.ok() || !SameAsListed(e, *st)) return std::nullopt;
  Hasher h;
  std::vector<std::byte> buf(1 << 20);
  uint64_t off = 0;
  while (true) {
    auto n = io.PRead(fd->get(), buf, off);
    if (!n.ok()) return std::nullopt;
    if (*n == 0) break;
    h.Update({buf.data(), *n});
    off += *n;
  }
  auto after = io.FStat(fd->get());
  if (off != e.size || !after.ok() || !SameAsListed(e, *after)) return std::nullopt;
  return h.Finish();
}

void CollectNodes(DirNode* n, std::vector<DirNode*>* out) {
  out->push_back(n);
  for (auto& c : n->children) CollectNodes(c.get(), out);
}

class Planner {
 public:
  explicit Planner(Context& ctx) : ctx_(ctx), reuse_(*ctx.reuse) {}

  void Run() {
    CollectNodes(ctx_.root.get(), &nodes_);
    // Stage one into an empty DST: nothing to reuse, no index to build.
    if (std::none_of(nodes_.begin(), nodes_.end(),
                     [](const DirNode* n) { return n->dst_exists && !n->dst.empty(); }))
      return;
    for (DirNode* n : nodes_) AddTargets(n);
    if (index_.targets() == 0) return;
    for (DirNode* n : nodes_) AddCandidates(n);
    for (size_t k = 0; k < orphan_dirs_.size(); ++k) ScanOrphanDir(orphan_dirs_[k]);
    if (reuse_.sources.empty()) return;
    Match();
  }

 private:
  void AddTargets(DirNode* n) {
    if (n->scan_failed) return;
    for (uint32_t i = 0; i < n->src.size(); ++i) {
      if (n->action[i] != Action::kCopy) continue;
      const Entry& s = n->src[i];
      if (!Usable(s) || s.looks_sparse()) continue;
      const Entry* d = n->dst_exists ? FindEntry(n->dst, s.name) : nullptr;
      if (d && !d->is_reg()) continue;  // type changes go the usual way
      if (n->maildir && mail::LandsAfterMessages(s.name)) continue;
      index_.AddTarget(HintOf(s, n->mail_sub == DirNode::kMailMessages));
      targets_.push_back({n, i});
    }
  }

  void Offer(const std::string& dir_rel, const Entry& d, bool message, bool orphan) {
    uint32_t id = static_cast<uint32_t>(reuse_.sources.size());
    if (!index_.AddCandidate(id, HintOf(d, message))) return;
    ReuseSource src;
    src.dir_rel = dir_rel;
    src.entry = d;
    src.orphan = orphan;
    reuse_.sources.push_back(std::move(src));
  }

  void AddCandidates(DirNode* n) {
    if (n->scan_failed || !n->dst_exists || n->mail_sub == DirNode::kMailTmp) return;
    bool message = n->mail_sub == DirNode::kMailMessages;
    for (const Entry& d : n->dst) {
      std::string rel = n->Join(d.name);
      if (Context::IsStaleTmp(d.name) || ctx_.Excluded(rel, d.is_dir())) continue;
      const Entry* s = FindEntry(n->src, d.name);
      if (!s) {
        if (d.is_dir()) AddOrphanDir(rel);
        else if (Usable(d)) Offer(n->rel, d, message, /*orphan=*/true);
        continue;
      }
      // A file SRC still has unchanged stays; it can only be copied from.
      // (With --checksum an unchanged-looking file may still be rewritten.)
      if (ctx_.opt.checksum || !Usable(d) || !s->is_reg()) continue;
      uint32_t i = static_cast<uint32_t>(s - n->src.data());
      if (n->action[i] == Action::kNone) Offer(n->rel, d, message, /*orphan=*/false);
    }
  }

  // A directory only DST has: its files may have moved elsewhere (a renamed
  // directory). Listed only here, since nothing else needs it before its
  // delete.
  void ScanOrphanDir(std::string rel) {  // by value: the list grows meanwhile
    io::IoBackend& io = ctx_.io();
    auto fd = io.OpenBeneath(ctx_.dst_root.get(), rel, O_RDONLY | O_DIRECTORY, 0);
    if (!fd.ok()) return;
    auto list = ListDir(io, fd->get(), rel);
    if (!list.ok()) return;
    std::string_view last = LastComponent(rel);
    bool message = ctx_.opt.mail != mail::MailMode::kOff && (last == "cur" || last == "new");
    for (const Entry& d : *list) {
      std::string crel = rel + "/" + d.name;
      if (Context::IsStaleTmp(d.name) || ctx_.Excluded(crel, d.is_dir())) continue;
      if (d.is_dir()) AddOrphanDir(crel);
      else if (Usable(d)) Offer(rel, d, message, /*orphan=*/true);
    }
  }

  void Match() {
    size_t nt = targets_.size(), nc = reuse_.sources.size();
    std::vector<std::vector<uint32_t>> cands(nt);
    std::vector<char> want_c(nc, 0);
    std::vector<uint32_t> hashed_t;
    for (uint32_t t = 0; t < nt; ++t) {
      cands[t] = index_.CandidatesFor(t, kMaxCandidates);
      if (cands[t].empty()) continue;
      hashed_t.push_back(t);
      for (uint32_t c : cands[t]) want_c[c] = 1;
    }
    std::vector<uint32_t> hashed_c;
    for (uint32_t c = 0; c < nc; ++c)
      if (want_c[c]) hashed_c.push_back(c);
    std::vector<std::optional<Hash128>> th(nt), ch(nc);
    // Locally both sides are read here; across hosts the sender hashes its
    // files and the receiver its own.
    tbb::parallel_for(size_t{0}, hashed_t.size() + hashed_c.size(), [&](size_t k) {
      io::IoBackend& io = ctx_.io();
      if (k < hashed_t.size()) {
        uint32_t t = hashed_t[k];
        const TargetRef& r = targets_[t];
        const Entry& s = r.node->src[r.index];
        th[t] = HashListed(io, ctx_.src_root.get(), r.node->rel, ctx_.SrcName(*r.node, s), s);
      } else {
        uint32_t c = hashed_c[k - hashed_t.size()];
        const ReuseSource& src = reuse_.sources[c];
        if (ctx_.dst_root.valid())
          ch[c] = HashListed(io, ctx_.dst_root.get(), src.dir_rel, src.entry.name.c_str(),
                             src.entry);
      }
    });
    reuse_.state = std::make_unique<std::atomic<uint8_t>[]>(nc);
    for (const RenameMatch& m : AssignRenames(cands, th, ch)) {
      const TargetRef& r = targets_[m.target];
      ReuseSource& src = reuse_.sources[m.candidate];
      reuse_.by_target[{r.node, r.index}] = m.candidate;
      const Entry& s = r.node->src[r.index];
      ctx_.stats.planned_files.fetch_sub(1, std::memory_order_relaxed);
      ctx_.stats.planned_bytes.fetch_sub(s.size, std::memory_order_relaxed);
      // Only a file this sync would delete can be renamed away, and only when
      // no other DST path shares its inode (the new path must not become a
      // hard link SRC does not have).
      src.claimed = src.orphan && ctx_.opt.del;
      src.consume = src.claimed && src.entry.nlink == 1;
      if (!src.claimed) continue;
      reuse_.claimed_paths.emplace(src.Rel(), m.candidate);
      // Every DST-only directory above it must outlive the rename.
      std::string dir = src.dir_rel;
      while (!dir.empty() && IsOrphanDir(dir)) {
        reuse_.claim_dirs.insert(dir);
        size_t slash = dir.rfind('/');
        dir = slash == std::string::npos ? "" : dir.substr(0, slash);
      }
    }
  }

  bool IsOrphanDir(const std::string& rel) const { return orphan_set_.count(rel) > 0; }
  void AddOrphanDir(std::string rel) {
    orphan_set_.insert(rel);
    orphan_dirs_.push_back(std::move(rel));
  }

  Context& ctx_;
  Reuse& reuse_;
  RenameIndex index_;
  std::vector<DirNode*> nodes_;
  std::vector<TargetRef> targets_;
  std::vector<std::string> orphan_dirs_;  // breadth first, as listed
  std::unordered_set<std::string> orphan_set_;
};

ItemFlags ReuseItem(const Context& ctx, const Entry& s, const Entry* d) {
  ItemFlags f;
  f.update = 'c';
  f.type = 'f';
  if (!d) {
    f.created = true;
    return f;
  }
  f.checksum = true;
  f.size = s.size != d->size;
  f.time = ctx.meta.times && !s.same_mtime(*d);
  f.perms = ctx.meta.perms && s.perms() != d->perms();
  f.owner = ctx.meta.owner && ctx.meta.am_root && s.uid != d->uid;
  f.group = ctx.meta.group && s.gid != d->gid;
  return f;
}

// Renames DST's source to a temporary beside the target, gives it src's
// metadata and renames it over the target name.
Status RenameInto(Context& ctx, DirNode& node, DirFds& fds, const Entry& s, int old_dir,
                  const ReuseSource& src) {
  io::IoBackend& io = ctx.io();
  std::string tmp = ctx.TmpName(s.name);
  RETURN_IF_ERROR(io.RenameAt(old_dir, src.entry.name.c_str(), fds.dst.get(), tmp.c_str()));
  Status st;
  auto fd = io.OpenAt(fds.dst.get(), tmp.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
  if (!fd.ok()) st = fd.status();
  Result<struct stat> now = st.ok() ? io.FStat(fd->get()) : Result<struct stat>(st);
  if (st.ok() && !now.ok()) st = now.status();
  if (st.ok() && now->st_ino != src.entry.ino) st = Status(ErrorCode::kChanged, "replaced during the sync");
  std::vector<io::Xattr> sx, have;
  if (st.ok()) {
    auto a = ReadKeptXattrs(io, ctx.meta, fds.src.get(), ctx.SrcName(node, s));
    auto b = ReadKeptXattrs(io, ctx.meta, fd->get(), nullptr);
    if (!a.ok()) st = a.status();
    else if (!b.ok()) st = b.status();
    else {
      sx = std::move(a).value();
      have = std::move(b).value();
    }
  }
  if (st.ok()) {
    Entry cur = Entry::FromStat(tmp, *now);
    DstState ds;
    ds.existing = &cur;
    ds.xattrs = &have;
    st = ApplyMeta(io, ctx.meta, fd->get(), nullptr, s, sx, ds);
  }
  if (st.ok()) {
    io::LandOp op;
    op.fd = fd->release();
    op.dirfd = fds.dst.get();
    op.tmp_name = tmp.c_str();
    op.final_name = s.name.c_str();
    op.fsync = ctx.opt.fsync;
    io.LandFiles({&op, 1});
    if (op.err) st = PosixError(op.failed_op, "", op.err);
  }
  // The old path was going to be deleted anyway: drop the temporary, and let
  // the whole-file path make the target.
  if (!st.ok()) (void)io.UnlinkAt(fds.dst.get(), tmp.c_str(), 0);
  return st;
}

Status CopyInto(Context& ctx, DirNode& node, DirFds& fds, const Entry& s, int old_dir,
                const ReuseSource& src) {
  io::IoBackend& io = ctx.io();
  ASSIGN_OR_RETURN(io::UniqueFd in, io.OpenAt(old_dir, src.entry.name.c_str(), O_RDONLY | O_NOFOLLOW, 0));
  ASSIGN_OR_RETURN(struct stat st, io.FStat(in.get()));
  if (!SameAsListed(src.entry, st)) return Status(ErrorCode::kChanged, "changed during the sync");
  std::string tmp = ctx.TmpName(s.name);
  ASSIGN_OR_RETURN(io::UniqueFd out, io.OpenAt(fds.dst.get(), tmp.c_str(),
                                               O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW,
                                               s.perms() & 0777));
  Status c = ctx.opt.reflink == ReflinkMode::kNever ? Status(ErrorCode::kUnsupported, "")
                                                    : io.Clone(out.get(), in.get());
  if (!c.ok()) c = CopyWithinDst(ctx, in.get(), out.get(), 0, s.size);
  if (!c.ok()) {
    (void)io.UnlinkAt(fds.dst.get(), tmp.c_str(), 0);
    return c;
  }
  return LandTemp(ctx, node, fds, s, std::move(out), tmp);
}

void ExecReuse(Context& ctx, DirNode* node, std::shared_ptr<DirFds> fds, uint32_t i,
               uint32_t k) {
  io::IoBackend& io = ctx.io();
  Reuse& reuse = *ctx.reuse;
  const ReuseSource& src = reuse.sources[k];
  const Entry& s = node->src[i];
  const Entry* d = node->dst_exists ? FindEntry(node->dst, s.name) : nullptr;
  std::string rel = node->Join(s.name);
  Status st;
  if (!ctx.opt.dry_run) {
    // The pair was confirmed on the file as scanned; SRC must still be it.
    auto now = io.StatAt(fds->src.get(), ctx.SrcName(*node, s), AT_SYMLINK_NOFOLLOW);
    if (!now.ok() || !SameAsListed(s, *now)) st = Status(ErrorCode::kChanged, "changed");
    io::UniqueFd old_dir;
    if (st.ok()) {
      auto o = io.OpenBeneath(ctx.dst_root.get(), src.dir_rel, O_RDONLY | O_DIRECTORY, 0);
      if (o.ok()) old_dir = std::move(o).value();
      else st = o.status();
    }
    if (st.ok() && src.consume) {
      auto o = io.StatAt(old_dir.get(), src.entry.name.c_str(), AT_SYMLINK_NOFOLLOW);
      if (!o.ok() || !SameAsListed(src.entry, *o)) st = Status(ErrorCode::kChanged, "changed");
      else st = RenameInto(ctx, *node, *fds, s, old_dir.get(), src);
    } else if (st.ok()) {
      st = CopyInto(ctx, *node, *fds, s, old_dir.get(), src);
    }
  }
  if (!st.ok()) {
    reuse.state[k].store(Reuse::kFailed);
    CopyFiles(ctx, *node, fds, {i});  // sends it; reports what fails there
    return;
  }
  if (src.consume) reuse.state[k].store(Reuse::kConsumed);
  ctx.Item(ReuseItem(ctx, s, d), rel, (src.consume ? " => " : " == ") + src.Rel());
  (src.consume ? ctx.stats.renamed_files : ctx.stats.dst_copied_files)
      .fetch_add(1, std::memory_order_relaxed);
  ctx.stats.renamed_bytes.fetch_add(s.size, std::memory_order_relaxed);
  if (!d) ctx.stats.created.fetch_add(1, std::memory_order_relaxed);
  node->touched = true;
}

}  // namespace

bool Reuse::Consumed(const std::string& rel) const {
  auto it = claimed_paths.find(rel);
  return it != claimed_paths.end() && state[it->second].load() == kConsumed;
}

void PlanRenames(Context& ctx) {
  ctx.reuse = std::make_shared<Reuse>();
  if (!ctx.opt.detect_renames) return;
  Planner(ctx).Run();
}

bool TakeOver(Context& ctx, DirNode* node, const std::shared_ptr<DirFds>& fds, uint32_t i) {
  Reuse& reuse = *ctx.reuse;
  const Entry& s = node->src[i];
  if (node->maildir && mail::LandsAfterMessages(s.name) &&
      !(ctx.opt.hard_links && s.nlink > 1)) {
    std::lock_guard<std::mutex> l(reuse.mu);
    reuse.late.emplace_back(node, i);
    return true;
  }
  auto it = reuse.by_target.find({node, i});
  if (it == reuse.by_target.end()) return false;
  uint32_t k = it->second;
  ctx.tasks.run([&ctx, node, fds, i, k] { ExecReuse(ctx, node, fds, i, k); });
  return true;
}

bool KeepOnDst(Context& ctx, DirNode& node, const Entry& d) {
  // A half-delivered message is not mail yet, and a server on DST may be
  // writing one: tmp/ is left alone, as if excluded.
  if (node.mail_sub == DirNode::kMailTmp) return true;
  Reuse& reuse = *ctx.reuse;
  std::string rel = node.Join(d.name);
  if (!d.is_dir()) return reuse.claimed_paths.count(rel) > 0;
  if (!reuse.claim_dirs.count(rel)) return false;
  std::lock_guard<std::mutex> l(reuse.mu);
  reuse.deferred_deletes.emplace_back(node.rel, d);
  return true;
}

void FinishRenames(Context& ctx) {
  Reuse& reuse = *ctx.reuse;
  io::IoBackend& io = ctx.io();
  // Claimed files that were not renamed away: still to be deleted.
  for (size_t k = 0; k < reuse.sources.size(); ++k) {
    const ReuseSource& src = reuse.sources[k];
    if (!src.claimed || reuse.state[k].load() == Reuse::kConsumed) continue;
    if (reuse.claim_dirs.count(src.dir_rel)) continue;  // goes with its directory
    auto dir = io.OpenBeneath(ctx.dst_root.get(), src.dir_rel, O_RDONLY | O_DIRECTORY, 0);
    if (!dir.ok()) continue;
    DeleteEntry(ctx, dir->get(), src.entry, src.Rel(), /*is_delete=*/true);
  }
  for (const auto& [parent, e] : reuse.deferred_deletes) {
    auto dir = io.OpenBeneath(ctx.dst_root.get(), parent, O_RDONLY | O_DIRECTORY, 0);
    if (!dir.ok()) continue;
    std::string rel = parent.empty() ? e.name : parent + "/" + e.name;
    DeleteEntry(ctx, dir->get(), e, rel, /*is_delete=*/true);
  }
}

void LandLateFiles(Context& ctx) {
  Reuse& reuse = *ctx.reuse;
  std::map<DirNode*, std::vector<uint32_t>> by_node;
  for (const auto& [n, i] : reuse.late) by_node[n].push_back(i);
  for (auto& [n, idx] : by_node) {
    DirNode* node = n;
    ctx.tasks.run([&ctx, node, v = std::move(idx)] {
      io::IoBackend& io = ctx.io();
      auto fds = std::make_shared<DirFds>();
      auto sfd = io.OpenBeneath(ctx.src_root.get(), node->rel, O_RDONLY | O_DIRECTORY, 0);
      if (!sfd.ok()) {
        ctx.Error(PosixError("open directory", node->rel, sfd.status().sys_errno()));
        return;
      }
      fds->src = std::move(sfd).value();
      if (!ctx.opt.dry_run || node->dst_exists) {
        auto dfd = io.OpenBeneath(ctx.dst_root.get(), node->rel, O_RDONLY | O_DIRECTORY, 0);
        if (!dfd.ok()) {
          ctx.Error(PosixError("open directory", node->rel, dfd.status().sys_errno()));
          return;
        }
        fds->dst = std::move(dfd).value();
      }
      for (uint32_t i : v) CopyFiles(ctx, *node, fds, {i});
    });
  }
  ctx.tasks.wait();
}

}  // namespace ferry::transfer
