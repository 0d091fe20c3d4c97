// The delta path (--no-whole-file locally; always across hosts later): the
// signature of DST's old file, a parallel rolling-checksum match of SRC's new
// data against it, and a patch into a temporary that must hash to SRC's
// XXH3-128 before it is renamed into place. A mismatch is reported and the
// file is sent whole instead.
#include <algorithm>
#include <cstring>

#include "engine/base/hash.h"
#include "engine/delta/matcher.h"
#include "engine/delta/patch.h"
#include "engine/delta/signature.h"
#include "engine/io/mapped_file.h"
#include "engine/io/scratch.h"
#include "engine/transfer/context.h"
#include "engine/tree/scan.h"

namespace ferry::transfer {

namespace {

bool SameFile(const Entry& e, const struct stat& st) {
  return st.st_ino == e.ino && st.st_dev == e.dev &&
         static_cast<uint64_t>(st.st_size) == e.size &&
         st.st_mtim.tv_sec == e.mtime_sec &&
         static_cast<uint32_t>(st.st_mtim.tv_nsec) == e.mtime_nsec;
}

}  // namespace

bool DeltaEligible(const Context& ctx, const Entry& s, const Entry* d) {
  return !ctx.opt.whole_file && d && d->is_reg() && d->size > 0 && s.size > 0;
}

// Returns false when the file should be sent whole instead (the error, if
// any, was reported); true when it landed.
bool CopyDelta(Context& ctx, DirNode& node, DirFds& fds, uint32_t i) {
  io::IoBackend& io = ctx.io();
  Entry& s = node.src[i];
  const Entry* d = FindEntry(node.dst, s.name);
  std::string rel = node.Join(s.name);
  auto in = io.OpenAt(fds.src.get(), ctx.SrcName(node, s), O_RDONLY | O_NOFOLLOW, 0);
  auto old = io.OpenAt(fds.dst.get(), s.name.c_str(), O_RDONLY | O_NOFOLLOW, 0);
  if (!in.ok() || !old.ok()) return false;  // the whole-file path reports it
  auto in_st = io.FStat(in->get());
  auto old_st = io.FStat(old->get());
  if (!in_st.ok() || !old_st.ok() || !SameFile(s, *in_st) ||
      old_st->st_ino != d->ino || !S_ISREG(old_st->st_mode))
    return false;

  io::MappedFile new_map, old_map;
  if (!new_map.Map(in->get(), s.size).ok() ||
      !old_map.Map(old->get(), static_cast<size_t>(old_st->st_size)).ok())
    return false;
  int threads = ctx.opt.jobs;
  auto sig = delta::ComputeSignature(old_map.bytes(),
                                     delta::DefaultSignatureParams(old_map.bytes().size()),
                                     threads);
  if (!sig.ok()) return false;
  auto dl = delta::ComputeDelta(*sig, new_map.bytes(), threads);
  if (!dl.ok()) return false;
  // What the sender vouches for: the new file as read, hashed on its side.
  Hash128 want = HashBytes(new_map.bytes());

  std::string tmp = ctx.TmpName(s.name);
  auto out = io.OpenAt(fds.dst.get(), tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW,
                       s.perms() & 0777);
  if (!out.ok()) return false;
  uint64_t off = 0;
  Hash128 got;
  Status st = delta::ApplyDelta(
      old_map.bytes(), *dl,
      [&](std::span<const std::byte> b) -> Status {
        // Through a reused heap buffer: a page-cache write straight from a
        // file mapping takes the kernel's slow path (its pages faulted in
        // one by one under the page lock), several times the copy itself.
        const std::span<std::byte> buf = io::ThreadScratch();
        while (!b.empty()) {
          const size_t n = std::min(b.size(), buf.size());
          std::memcpy(buf.data(), b.data(), n);
          RETURN_IF_ERROR(io.PWriteAll(out->get(), buf.first(n), off));
          off += n;
          b = b.subspan(n);
        }
        return Status::Ok();
      },
      &got);
  auto after = io.FStat(in->get());
  if (st.ok() && (new_map.torn() || !after.ok() || !SameFile(s, *after)))
    st = Status(ErrorCode::kChanged, "changed while being read");
  if (st.ok() && !(got == want)) {
    ctx.Error(rel, Status(ErrorCode::kCorrupt,
                          rel + ": patched file does not match the source's XXH3-128; sending it whole"));
    st = Status(ErrorCode::kCorrupt, "mismatch");
  }
  if (!st.ok()) {
    (void)io.UnlinkAt(fds.dst.get(), tmp.c_str(), 0);
    return false;
  }
  // A failure here (metadata, rename) falls back to the whole-file path,
  // which retries the landing and reports what still fails.
  if (!LandTemp(ctx, node, fds, s, std::move(out).value(), tmp).ok()) return false;
  ctx.stats.literal_bytes.fetch_add(dl->stats.literal_bytes, std::memory_order_relaxed);
  ctx.stats.matched_bytes.fetch_add(dl->stats.matched_bytes, std::memory_order_relaxed);
  return true;
}

}  // namespace ferry::transfer
