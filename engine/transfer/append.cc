// Append detection: a file that only grew at its end (an mbox, a log,
// Dovecot's dovecot.index.log) is rebuilt from DST's old copy plus the tail
// read from SRC. The old copy must be a byte-exact prefix: both prefixes are
// hashed, sizes are never trusted. No signature of the old file is built.
#include <algorithm>

#include "engine/base/hash.h"
#include "engine/transfer/context.h"
#include "engine/transfer/reuse.h"
#include "engine/tree/scan.h"

namespace ferry::transfer {

namespace {

// Whole-file mode copies locally at memory speed; below this the hashing
// costs more than it saves.
constexpr uint64_t kAppendMinSize = 64 * 1024;
constexpr size_t kBuf = 1 << 20;

bool SameFile(const Entry& e, const struct stat& st) {
  return st.st_ino == e.ino && st.st_dev == e.dev &&
         static_cast<uint64_t>(st.st_size) == e.size && st.st_mtim.tv_sec == e.mtime_sec &&
         static_cast<uint32_t>(st.st_mtim.tv_nsec) == e.mtime_nsec;
}

// Feeds [0, len) of fd to h; fails when the file is shorter.
Status HashRange(io::IoBackend& io, int fd, uint64_t len, Hasher& h, std::vector<std::byte>& buf) {
  uint64_t off = 0;
  while (off < len) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(len - off, buf.size()));
    ASSIGN_OR_RETURN(size_t n, io.PRead(fd, {buf.data(), want}, off));
    if (n == 0) return Status(ErrorCode::kChanged, "shrank while being read");
    h.Update({buf.data(), n});
    off += n;
  }
  return Status::Ok();
}

}  // namespace

bool AppendEligible(const Context& ctx, const Entry& s, const Entry* d) {
  return ctx.opt.detect_appends && d && d->is_reg() && d->size > 0 && d->size < s.size &&
         !s.looks_sparse() && (!ctx.opt.whole_file || s.size >= kAppendMinSize);
}

bool CopyAppend(Context& ctx, DirNode& node, DirFds& fds, uint32_t i) {
  io::IoBackend& io = ctx.io();
  const Entry& s = node.src[i];
  const Entry* d = FindEntry(node.dst, s.name);
  if (!d) return false;
  auto in = io.OpenAt(fds.src.get(), ctx.SrcName(node, s), O_RDONLY | O_NOFOLLOW, 0);
  auto old = io.OpenAt(fds.dst.get(), s.name.c_str(), O_RDONLY | O_NOFOLLOW, 0);
  if (!in.ok() || !old.ok()) return false;
  auto in_st = io.FStat(in->get());
  auto old_st = io.FStat(old->get());
  if (!in_st.ok() || !old_st.ok() || !SameFile(s, *in_st) || !SameFile(*d, *old_st))
    return false;
  uint64_t prefix = d->size;
  std::vector<std::byte> buf(kBuf);
  // `whole` goes on from the prefix into the tail: SRC's hash as sent.
  Hasher whole, old_h;
  if (!HashRange(io, in->get(), prefix, whole, buf).ok() ||
      !HashRange(io, old->get(), prefix, old_h, buf).ok() || !(whole.Finish() == old_h.Finish()))
    return false;

  std::string tmp = ctx.TmpName(s.name);
  auto out = io.OpenAt(fds.dst.get(), tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW,
                       s.perms() & 0777);
  if (!out.ok()) return false;
  Status st = ctx.opt.reflink == ReflinkMode::kNever ? Status(ErrorCode::kUnsupported, "")
                                                     : io.Clone(out->get(), old->get());
  if (!st.ok()) st = CopyWithinDst(ctx, old->get(), out->get(), 0, prefix);
  uint64_t off = prefix;
  while (st.ok() && off < s.size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(s.size - off, buf.size()));
    auto n = io.PRead(in->get(), {buf.data(), want}, off);
    if (!n.ok()) st = n.status();
    else if (*n == 0) st = Status(ErrorCode::kChanged, "shrank while being read");
    else {
      whole.Update({buf.data(), *n});
      st = io.PWriteAll(out->get(), {buf.data(), *n}, off);
      off += *n;
    }
  }
  auto after = io.FStat(in->get());
  if (st.ok() && (!after.ok() || !SameFile(s, *after)))
    st = Status(ErrorCode::kChanged, "changed while being read");
  // What landed must be what SRC holds: hash the temporary as written.
  if (st.ok()) {
    auto check = io.OpenAt(fds.dst.get(), tmp.c_str(), O_RDONLY | O_NOFOLLOW, 0);
    Hasher got;
    if (!check.ok()) st = check.status();
    else st = HashRange(io, check->get(), s.size, got, buf);
    if (st.ok() && !(got.Finish() == whole.Finish())) {
      ctx.Error(Status(ErrorCode::kCorrupt, node.Join(s.name) +
                                                ": appended file does not match the source's "
                                                "XXH3-128; sending it whole"));
      st = Status(ErrorCode::kCorrupt, "mismatch");
    }
  }
  if (!st.ok()) {
    (void)io.UnlinkAt(fds.dst.get(), tmp.c_str(), 0);
    return false;
  }
  if (!LandTemp(ctx, node, fds, s, std::move(out).value(), tmp).ok()) return false;
  ctx.stats.literal_bytes.fetch_add(s.size - prefix, std::memory_order_relaxed);
  ctx.stats.matched_bytes.fetch_add(prefix, std::memory_order_relaxed);
  ctx.stats.appended_files.fetch_add(1, std::memory_order_relaxed);
  ctx.stats.append_reused_bytes.fetch_add(prefix, std::memory_order_relaxed);
  return true;
}

}  // namespace ferry::transfer
