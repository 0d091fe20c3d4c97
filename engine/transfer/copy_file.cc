// Regular-file copies. Small files go through the backend's batched
// read/create/land operations (one io_uring submission per step on the
// io_uring backend); large and sparse files are copied one at a time with
// reflink, copy_file_range or read/write, keeping holes.
//
// Every copy is written to a file no reader can see under the final name,
// gets its metadata, and lands only when the source did not change meanwhile
// (identity, size and mtime checked after the data was read): a new small
// file is created unnamed (O_TMPFILE) and linked as its name; anything else
// is written as DST/.~ferry.<name>.<suffix> and renamed over the final name.
#include <cerrno>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <memory>

#include "engine/base/hash.h"
#include "engine/transfer/context.h"
#include "engine/transfer/reuse.h"
#include "engine/tree/scan.h"

namespace ferry::transfer {

namespace {

constexpr int kMaxAttempts = 3;
constexpr size_t kChunk = 8 << 20;

// One read buffer per worker thread, reused by every batch it copies: a
// fresh multi-megabyte allocation per batch costs an mmap, a page fault per
// page and an munmap, which measured as much kernel time as the copy itself.
// Not zeroed: ReadFiles fills what is used.
std::byte* BatchBuffer(size_t size) {
  thread_local std::unique_ptr<std::byte[]> buf;
  thread_local size_t cap = 0;
  if (size > cap) {
    cap = std::max(size, cap * 2);
    buf.reset(new std::byte[cap]);
  }
  return buf.get();
}

bool SameAsScan(const Entry& s, const struct stat& st) {
  return st.st_ino == s.ino && st.st_dev == s.dev &&
         static_cast<uint64_t>(st.st_size) == s.size &&
         st.st_mtim.tv_sec == s.mtime_sec &&
         static_cast<uint32_t>(st.st_mtim.tv_nsec) == s.mtime_nsec;
}

void RefreshFromStat(Entry& s, const struct stat& st) {
  std::string name = std::move(s.name);
  s = Entry::FromStat(std::move(name), st);
}

Status PathError(const std::string& rel, const Status& st) {
  return Status(st.code(), rel + ": " + st.message(), st.sys_errno());
}

ItemFlags CopyItem(const Context& ctx, const Entry& s, const Entry* d,
                   bool content_differs) {
  ItemFlags f;
  f.update = '>';
  f.type = 'f';
  if (!d || !d->is_reg()) {
    f.created = true;
    return f;
  }
  f.checksum = content_differs && ctx.opt.checksum;
  f.size = s.size != d->size;
  f.time = ctx.meta.times && !s.same_mtime(*d);
  f.perms = ctx.meta.perms && s.perms() != d->perms();
  f.owner = ctx.meta.owner && ctx.meta.am_root && s.uid != d->uid;
  f.group = ctx.meta.group && s.gid != d->gid;
  return f;
}

void Landed(Context& ctx, DirNode& node, uint32_t i, const Entry* d,
            bool content_differs) {
  const Entry& s = node.src[i];
  ctx.Item(CopyItem(ctx, s, d, content_differs), node.Join(s.name), "", s.size);
  ctx.stats.transferred_files.fetch_add(1, std::memory_order_relaxed);
  ctx.stats.transferred_bytes.fetch_add(s.size, std::memory_order_relaxed);
  if (!d) ctx.stats.created.fetch_add(1, std::memory_order_relaxed);
  node.touched = true;
}

// Reads src's kept xattrs and, when DST's directory has a default ACL, what
// the new temporary inherited; fills ds accordingly.
Status PrepareMeta(Context& ctx, DirNode& node, DirFds& fds, const Entry& s,
                   int tmp_fd, std::vector<io::Xattr>* sx,
                   std::vector<io::Xattr>* inherited, DstState* ds) {
  io::IoBackend& io = ctx.io();
  ASSIGN_OR_RETURN(*sx, ReadKeptXattrs(io, ctx.meta, fds.src.get(),
                                       ctx.SrcName(node, s)));
  node.NewEntryState(ctx.umask_zero, ds);
  if (node.dst_default_acl) {
    ASSIGN_OR_RETURN(*inherited, ReadKeptXattrs(io, ctx.meta, tmp_fd, nullptr));
    ds->xattrs = inherited;
  }
  return Status::Ok();
}

// Copies [off, off+len) from in to out: copy_file_range, or read/write where
// the kernel cannot (across file systems on old kernels, special files).
// Adds what it copied to *counted as it goes (progress), when given.
Status CopyBytes(Context& ctx, int in, int out, uint64_t off, uint64_t len,
                 std::atomic<uint64_t>* counted) {
  io::IoBackend& io = ctx.io();
  bool use_cfr = true;
  std::vector<std::byte> buf;
  while (len > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(len, kChunk));
    size_t got = 0;
    if (use_cfr) {
      auto n = io.CopyFileRange(in, off, out, off, want);
      if (!n.ok()) {
        int e = n.status().sys_errno();
        if (e == EXDEV || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP) {
          use_cfr = false;
          continue;
        }
        return n.status();
      }
      got = *n;
    } else {
      if (buf.empty()) buf.resize(1 << 20);
      size_t w = std::min(want, buf.size());
      ASSIGN_OR_RETURN(got, io.PRead(in, {buf.data(), w}, off));
      if (got > 0) RETURN_IF_ERROR(io.PWriteAll(out, {buf.data(), got}, off));
    }
    if (got == 0) return Status(ErrorCode::kChanged, "source shrank while being read");
    off += got;
    len -= got;
    if (counted) counted->fetch_add(got, std::memory_order_relaxed);
  }
  return Status::Ok();
}

Status CopyRange(Context& ctx, int in, int out, uint64_t off, uint64_t len) {
  return CopyBytes(ctx, in, out, off, len, &ctx.stats.literal_bytes);
}

Status CopyData(Context& ctx, int in, int out, const Entry& s) {
  io::IoBackend& io = ctx.io();
  if (ctx.opt.reflink != ReflinkMode::kNever && s.size > 0) {
    Status c = io.Clone(out, in);
    if (c.ok()) {
      ctx.stats.reflinked_bytes.fetch_add(s.size, std::memory_order_relaxed);
      return c;
    }
    if (c.code() != ErrorCode::kUnsupported || ctx.opt.reflink == ReflinkMode::kAlways)
      return ctx.opt.reflink == ReflinkMode::kAlways
                 ? Status(c.code(), "--reflink=always: " + c.message(), c.sys_errno())
                 : c;
  }
  if (ctx.opt.sparse && s.looks_sparse()) {
    uint64_t off = 0;
    while (off < s.size) {
      auto data = io.SeekData(in, off);
      if (!data.ok()) {
        if (data.status().code() == ErrorCode::kNotFound) break;  // only a hole left
        return data.status();
      }
      if (*data >= s.size) break;
      ASSIGN_OR_RETURN(uint64_t hole, io.SeekHole(in, *data));
      hole = std::min(hole, s.size);
      RETURN_IF_ERROR(CopyRange(ctx, in, out, *data, hole - *data));
      off = hole;
    }
    return io.FTruncate(out, s.size);
  }
  return CopyRange(ctx, in, out, 0, s.size);
}

// One file, start to finish, with retries when the source moves under us.
void CopyOne(Context& ctx, DirNode& node, DirFds& fds, uint32_t i,
             bool content_differs) {
  io::IoBackend& io = ctx.io();
  Entry& s = node.src[i];
  const Entry* d = node.dst_exists ? FindEntry(node.dst, s.name) : nullptr;
  if (d && !d->is_reg()) d = nullptr;
  std::string rel = node.Join(s.name);
  if (ctx.opt.dry_run) {
    Landed(ctx, node, i, d, content_differs);
    return;
  }
  if ((AppendEligible(ctx, s, d) && CopyAppend(ctx, node, fds, i)) ||
      (DeltaEligible(ctx, s, d) && CopyDelta(ctx, node, fds, i))) {
    Landed(ctx, node, i, d, content_differs);
    return;
  }
  std::string tmp = ctx.TmpName(s.name);
  Status st;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto in = io.OpenAt(fds.src.get(), ctx.SrcName(node, s), O_RDONLY | O_NOFOLLOW, 0);
    if (!in.ok()) {
      if (in.status().code() == ErrorCode::kNotFound) {
        ctx.Vanished(rel);
      } else if (in.status().sys_errno() == ELOOP) {
        ctx.Error(rel, Status(ErrorCode::kChanged, rel + ": replaced by a symlink during the sync; not followed"));
      } else {
        ctx.Error(rel, PosixError("open", rel, in.status().sys_errno()));
      }
      node.action[i] = Action::kFailed;
      return;
    }
    auto before = io.FStat(in->get());
    if (!before.ok()) { st = before.status(); break; }
    if (!S_ISREG(before->st_mode)) {
      st = Status(ErrorCode::kChanged, "is no longer a regular file");
      break;
    }
    if (!SameAsScan(s, *before)) {
      // Replaced or rewritten since the scan: copy what is there now.
      RefreshFromStat(s, *before);
    }
    auto out = io.OpenAt(fds.dst.get(), tmp.c_str(),
                         O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, s.perms() & 0777);
    if (!out.ok()) { st = out.status(); break; }
    st = CopyData(ctx, in->get(), out->get(), s);
    if (st.ok() || st.code() == ErrorCode::kChanged) {
      auto after = io.FStat(in->get());
      if (!after.ok()) st = after.status();
      else if (!st.ok() || !SameAsScan(s, *after)) {
        ctx.Warn("file changed while being read, retrying: " + rel);
        (void)io.UnlinkAt(fds.dst.get(), tmp.c_str(), 0);
        RefreshFromStat(s, *after);
        st = Status(ErrorCode::kChanged, "changed while being read " +
                                             std::to_string(kMaxAttempts) + " times");
        continue;
      }
    }
    if (st.ok()) {
      st = LandTemp(ctx, node, fds, s, std::move(out).value(), tmp);
    } else {
      (void)io.UnlinkAt(fds.dst.get(), tmp.c_str(), 0);
    }
    break;
  }
  if (!st.ok()) {
    ctx.Error(rel, PathError(rel, st));
    node.action[i] = Action::kFailed;
    return;
  }
  Landed(ctx, node, i, d, content_differs);
}

// The batched path: read all, create all, metadata, land all.
void CopySmallBatch(Context& ctx, DirNode& node, DirFds& fds,
                    const std::vector<uint32_t>& idx, bool content_differs) {
  io::IoBackend& io = ctx.io();
  size_t n = idx.size();
  size_t total = 0;
  for (uint32_t i : idx) total += node.src[i].size + 1;
  std::byte* buf = BatchBuffer(total);
  std::vector<io::ReadFileOp> rops(n);
  size_t off = 0;
  for (size_t k = 0; k < n; ++k) {
    const Entry& s = node.src[idx[k]];
    rops[k].dirfd = fds.src.get();
    rops[k].name = ctx.SrcName(node, s);
    rops[k].buf = buf + off;
    rops[k].buf_len = s.size + 1;  // one more byte detects growth
    off += s.size + 1;
  }
  io.ReadFiles(rops);

  std::vector<uint32_t> retry;
  std::vector<uint32_t> fallback;  // redone one by one with a named temporary
  std::vector<size_t> good;
  for (size_t k = 0; k < n; ++k) {
    uint32_t i = idx[k];
    const io::ReadFileOp& r = rops[k];
    std::string rel = node.Join(node.src[i].name);
    if (r.err) {
      if (r.err == ENOENT) ctx.Vanished(rel);
      else if (r.err == ELOOP)
        ctx.Error(rel, Status(ErrorCode::kChanged, rel + ": replaced by a symlink during the sync; not followed"));
      else ctx.Error(rel, PosixError(r.failed_op, rel, r.err));
      node.action[i] = Action::kFailed;
    } else if (!S_ISREG(r.st_after.st_mode) || !SameAsScan(node.src[i], r.st_after) ||
               r.bytes_read != node.src[i].size) {
      retry.push_back(i);  // changed since the scan: the one-by-one path copes
    } else {
      good.push_back(k);
    }
  }

  // A name DST does not have is made by linking an unnamed file (never seen
  // half written, nothing to clean up after a crash); one that exists is
  // replaced by renaming a named temporary over it.
  bool unnamed_ok = ctx.unnamed_ok.load(std::memory_order_relaxed);
  std::vector<std::string> tmps(good.size());
  std::vector<io::WriteFileOp> wops(good.size());
  for (size_t g = 0; g < good.size(); ++g) {
    const Entry& s = node.src[idx[good[g]]];
    bool unnamed = unnamed_ok && !(node.dst_exists && FindEntry(node.dst, s.name));
    if (!unnamed) tmps[g] = ctx.TmpName(s.name);
    wops[g].dirfd = fds.dst.get();
    wops[g].name = unnamed ? nullptr : tmps[g].c_str();
    wops[g].final_name = s.name.c_str();
    wops[g].mode = s.perms() & 0777;
    wops[g].data = rops[good[g]].buf;
    wops[g].len = s.size;
  }
  io.CreateFiles(wops);

  std::vector<io::LandOp> lops;
  std::vector<size_t> landing;  // index into good
  lops.reserve(good.size());
  for (size_t g = 0; g < good.size(); ++g) {
    uint32_t i = idx[good[g]];
    const Entry& s = node.src[i];
    std::string rel = node.Join(s.name);
    bool unnamed = wops[g].name == nullptr;
    if (wops[g].err) {
      if (unnamed && (wops[g].err == EOPNOTSUPP || wops[g].err == EISDIR ||
                      wops[g].err == EINVAL)) {
        // No O_TMPFILE here: named temporaries from now on.
        ctx.unnamed_ok.store(false, std::memory_order_relaxed);
        fallback.push_back(i);
        continue;
      }
      if (!unnamed && wops[g].err != EEXIST)
        (void)io.UnlinkAt(fds.dst.get(), tmps[g].c_str(), 0);
      ctx.Error(rel, PosixError(wops[g].failed_op, rel, wops[g].err));
      node.action[i] = Action::kFailed;
      continue;
    }
    std::vector<io::Xattr> sx, inherited;
    DstState ds;
    Status st = PrepareMeta(ctx, node, fds, s, wops[g].fd, &sx, &inherited, &ds);
    if (st.ok()) st = ApplyMeta(io, ctx.meta, wops[g].fd, nullptr, s, sx, ds);
    if (!st.ok()) {
      ::close(wops[g].fd);
      if (!unnamed) (void)io.UnlinkAt(fds.dst.get(), tmps[g].c_str(), 0);
      ctx.Error(rel, PathError(rel, st));
      node.action[i] = Action::kFailed;
      continue;
    }
    io::LandOp op;
    op.fd = wops[g].fd;
    op.dirfd = fds.dst.get();
    op.tmp_name = wops[g].name;
    op.final_name = s.name.c_str();
    op.fsync = ctx.opt.fsync;
    lops.push_back(op);
    landing.push_back(g);
  }
  io.LandFiles(lops);
  for (size_t l = 0; l < lops.size(); ++l) {
    size_t g = landing[l];
    uint32_t i = idx[good[g]];
    const Entry& s = node.src[i];
    if (lops[l].err) {
      if (lops[l].tmp_name == nullptr) {
        if (lops[l].err == EEXIST) {
          // Created on DST by someone else since the scan: replace it the
          // usual way, as rsync would.
          fallback.push_back(i);
          continue;
        }
        if (lops[l].err == ENOENT && std::strcmp(lops[l].failed_op, "link") == 0) {
          // No /proc to link through (and no CAP_DAC_READ_SEARCH): named
          // temporaries from now on. A vanished directory fails again there.
          ctx.unnamed_ok.store(false, std::memory_order_relaxed);
          fallback.push_back(i);
          continue;
        }
      } else {
        (void)io.UnlinkAt(fds.dst.get(), tmps[g].c_str(), 0);
      }
      ctx.Error(node.Join(s.name), PosixError(lops[l].failed_op, node.Join(s.name), lops[l].err));
      node.action[i] = Action::kFailed;
      continue;
    }
    const Entry* d = node.dst_exists ? FindEntry(node.dst, s.name) : nullptr;
    if (d && !d->is_reg()) d = nullptr;
    ctx.stats.literal_bytes.fetch_add(s.size, std::memory_order_relaxed);
    Landed(ctx, node, i, d, content_differs);
  }
  for (uint32_t i : retry) {
    ctx.Warn("file changed while being read, retrying: " + node.Join(node.src[i].name));
    CopyOne(ctx, node, fds, i, content_differs);
  }
  for (uint32_t i : fallback) CopyOne(ctx, node, fds, i, content_differs);
}

Result<Hash128> HashFile(io::IoBackend& io, int dirfd, const char* name) {
  ASSIGN_OR_RETURN(io::UniqueFd fd, io.OpenAt(dirfd, name, O_RDONLY | O_NOFOLLOW, 0));
  Hasher h;
  std::vector<std::byte> buf(1 << 20);
  uint64_t off = 0;
  while (true) {
    ASSIGN_OR_RETURN(size_t n, io.PRead(fd.get(), buf, off));
    if (n == 0) break;
    h.Update({buf.data(), n});
    off += n;
  }
  return h.Finish();
}

}  // namespace

Status CopyWithinDst(Context& ctx, int in, int out, uint64_t off, uint64_t len) {
  return CopyBytes(ctx, in, out, off, len, nullptr);
}

Status LandTemp(Context& ctx, DirNode& node, DirFds& fds, const Entry& s,
                io::UniqueFd out, const std::string& tmp) {
  io::IoBackend& io = ctx.io();
  std::vector<io::Xattr> sx, inherited;
  DstState ds;
  Status st = PrepareMeta(ctx, node, fds, s, out.get(), &sx, &inherited, &ds);
  if (st.ok()) st = ApplyMeta(io, ctx.meta, out.get(), nullptr, s, sx, ds);
  if (st.ok()) {
    io::LandOp op;
    op.fd = out.release();
    op.dirfd = fds.dst.get();
    op.tmp_name = tmp.c_str();
    op.final_name = s.name.c_str();
    op.fsync = ctx.opt.fsync;
    io.LandFiles({&op, 1});
    if (op.err) st = PosixError(op.failed_op, "", op.err);
  }
  if (!st.ok()) (void)io.UnlinkAt(fds.dst.get(), tmp.c_str(), 0);
  return st;
}

void CopyFiles(Context& ctx, DirNode& node, std::shared_ptr<DirFds> fds,
               std::vector<uint32_t> indices) {
  if (ctx.opt.dry_run) {
    for (uint32_t i : indices) CopyOne(ctx, node, *fds, i, false);
    return;
  }
  if (indices.size() == 1) {
    const Entry& s = node.src[indices[0]];
    const Entry* d = node.dst_exists ? FindEntry(node.dst, s.name) : nullptr;
    if (s.size > 256 * 1024 || s.looks_sparse() || DeltaEligible(ctx, s, d) ||
        AppendEligible(ctx, s, d)) {
      CopyOne(ctx, node, *fds, indices[0], false);
      return;
    }
  }
  CopySmallBatch(ctx, node, *fds, indices, false);
}

void ChecksumFiles(Context& ctx, DirNode& node, std::shared_ptr<DirFds> fds,
                   std::vector<uint32_t> indices) {
  io::IoBackend& io = ctx.io();
  for (uint32_t i : indices) {
    const Entry& s = node.src[i];
    const Entry* d = FindEntry(node.dst, s.name);
    std::string rel = node.Join(s.name);
    auto a = HashFile(io, fds->src.get(), ctx.SrcName(node, s));
    if (!a.ok()) {
      if (a.status().code() == ErrorCode::kNotFound) ctx.Vanished(rel);
      else ctx.Error(rel, PathError(rel, a.status()));
      continue;
    }
    Result<Hash128> b = Status(ErrorCode::kNotFound, "no destination");
    if (fds->dst.valid()) b = HashFile(io, fds->dst.get(), s.name.c_str());
    if (b.ok() && *a == *b) {
      UpdateMeta(ctx, node, *fds, i, *d);
      continue;
    }
    ctx.stats.planned_files.fetch_add(1, std::memory_order_relaxed);
    ctx.stats.planned_bytes.fetch_add(s.size, std::memory_order_relaxed);
    node.action[i] = Action::kCopy;
    CopyOne(ctx, node, *fds, i, /*content_differs=*/true);
  }
}

}  // namespace ferry::transfer
