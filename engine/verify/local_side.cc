#include "engine/verify/local_side.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include "engine/io/posix_backend.h"
#include "engine/tree/scan.h"

namespace ferry::verify {

namespace {

constexpr size_t kStatChunk = 1024;
constexpr uint64_t kBatchBytes = 8 << 20;
constexpr size_t kChunk = 1 << 20;

// Per-thread buffers, reused: a fresh multi-megabyte allocation per batch
// costs an mmap and a page fault per page (see copy_file.cc BatchBuffer).
std::byte* Buffer(std::unique_ptr<std::byte[]>& buf, size_t& cap, size_t size) {
  if (size > cap) {
    cap = std::max(size, cap * 2);
    buf.reset(new std::byte[cap]);
  }
  return buf.get();
}

std::byte* BatchBuffer(size_t size) {
  thread_local std::unique_ptr<std::byte[]> buf;
  thread_local size_t cap = 0;
  return Buffer(buf, cap, size);
}

std::byte* ChunkBuffer() {
  thread_local std::unique_ptr<std::byte[]> buf;
  thread_local size_t cap = 0;
  return Buffer(buf, cap, kChunk);
}

bool SameFile(const Entry& e, const struct stat& st) {
  return st.st_ino == e.ino && st.st_dev == e.dev;
}

bool Unchanged(const Entry& e, const struct stat& st) {
  return SameFile(e, st) && S_ISREG(st.st_mode) &&
         static_cast<uint64_t>(st.st_size) == e.size &&
         st.st_mtim.tv_sec == e.mtime_sec &&
         static_cast<uint32_t>(st.st_mtim.tv_nsec) == e.mtime_nsec;
}

Status ChangedWhileRead() {
  return Status(ErrorCode::kChanged, "changed while it was being read");
}

class LocalDir : public SideDir {
 public:
  LocalDir(std::shared_ptr<LocalSide> side, io::UniqueFd fd)
      : side_(std::move(side)), fd_(std::move(fd)) {}

  Result<Entry> Self() override {
    ASSIGN_OR_RETURN(struct stat st, side_->io().FStat(fd_.get()));
    return Entry::FromStat(".", st);
  }

  Result<std::vector<Entry>> List() override;

  Result<Entry> Lookup(const std::string& name) override {
    ASSIGN_OR_RETURN(struct stat st,
                     side_->io().StatAt(fd_.get(), name.c_str(), AT_SYMLINK_NOFOLLOW));
    return Entry::FromStat(name, st);
  }

  Result<std::shared_ptr<SideDir>> OpenChild(const std::string& name) override {
    ASSIGN_OR_RETURN(io::UniqueFd fd,
                     side_->io().OpenAt(fd_.get(), name.c_str(),
                                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0));
    return std::shared_ptr<SideDir>(std::make_shared<LocalDir>(side_, std::move(fd)));
  }

  Result<std::vector<io::Xattr>> Xattrs(const MetaPolicy& p, const char* name) override {
    return ReadKeptXattrs(side_->io(), p, fd_.get(), name);
  }

  Result<std::string> ReadLink(const std::string& name) override {
    return side_->io().ReadLinkAt(fd_.get(), name.c_str());
  }

  void HashFiles(std::span<HashOp> ops) override;

 private:
  void HashBatch(io::IoBackend& io, std::span<HashOp*> ops);
  void HashLarge(io::IoBackend& io, HashOp& op);

  std::shared_ptr<LocalSide> side_;
  io::UniqueFd fd_;
};

Result<std::vector<Entry>> LocalDir::List() {
  // getdents consumes the fd's offset: list a fresh descriptor of the same
  // directory, so List() may be called more than once and concurrently.
  io::IoBackend& io = side_->io();
  ASSIGN_OR_RETURN(io::UniqueFd dfd, io.OpenAt(fd_.get(), ".", O_RDONLY | O_DIRECTORY, 0));
  auto names = io.ReadDir(dfd.get());
  if (!names.ok()) return PosixError("read directory", ".", names.status().sys_errno());
  std::vector<Entry> out(names->size());
  if (names->size() <= kStatChunk) {
    RETURN_IF_ERROR(StatNames(io, fd_.get(), "", *names, 0, names->size(), out));
  } else {
    // A Maildir's cur/ holds most of an account: stat it on every core.
    std::mutex mu;
    Status first;
    tbb::parallel_for(size_t{0}, (names->size() + kStatChunk - 1) / kStatChunk, [&](size_t c) {
      size_t b = c * kStatChunk, e = std::min(names->size(), b + kStatChunk);
      Status s = StatNames(side_->io(), fd_.get(), "", *names, b, e, out);
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

void LocalDir::HashFiles(std::span<HashOp> ops) {
  io::IoBackend& io = side_->io();
  std::vector<HashOp*> batch;
  uint64_t bytes = 0;
  auto flush = [&] {
    if (!batch.empty()) HashBatch(io, batch);
    batch.clear();
    bytes = 0;
  };
  for (HashOp& op : ops) {
    if (op.entry->size > LocalSide::kSmallFile) {
      HashLarge(io, op);
      continue;
    }
    if (bytes + op.entry->size + 1 > kBatchBytes) flush();
    batch.push_back(&op);
    bytes += op.entry->size + 1;
  }
  flush();
}

void LocalDir::HashBatch(io::IoBackend& io, std::span<HashOp*> ops) {
  size_t total = 0;
  for (const HashOp* op : ops) total += op->entry->size + 1;
  std::byte* buf = BatchBuffer(total);
  std::vector<io::ReadFileOp> rops(ops.size());
  size_t off = 0;
  for (size_t k = 0; k < ops.size(); ++k) {
    const Entry& e = *ops[k]->entry;
    rops[k].dirfd = fd_.get();
    rops[k].name = e.name.c_str();
    rops[k].buf = buf + off;
    rops[k].buf_len = e.size + 1;  // one more byte detects growth
    off += e.size + 1;
  }
  io.ReadFiles(rops);
  for (size_t k = 0; k < ops.size(); ++k) {
    HashOp& op = *ops[k];
    const io::ReadFileOp& r = rops[k];
    if (r.err != 0) {
      op.status = PosixError(r.failed_op, op.entry->name, r.err);
    } else if (!Unchanged(*op.entry, r.st_after) || r.bytes_read != op.entry->size) {
      op.status = ChangedWhileRead();
    } else {
      op.hash = HashBytes({r.buf, r.bytes_read});
      op.status = Status::Ok();
    }
  }
}

void LocalDir::HashLarge(io::IoBackend& io, HashOp& op) {
  const Entry& e = *op.entry;
  // O_NONBLOCK: a FIFO swapped in since the listing must not block the open.
  auto fd = io.OpenAt(fd_.get(), e.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
  if (!fd.ok()) {
    op.status = fd.status();
    return;
  }
  auto before = io.FStat(fd->get());
  if (!before.ok()) {
    op.status = before.status();
    return;
  }
  if (!Unchanged(e, *before)) {
    op.status = ChangedWhileRead();
    return;
  }
  std::byte* buf = ChunkBuffer();
  Hasher h;
  uint64_t off = 0;
  while (true) {
    auto n = io.PRead(fd->get(), {buf, kChunk}, off);
    if (!n.ok()) {
      op.status = n.status();
      return;
    }
    if (*n == 0) break;
    h.Update({buf, *n});
    off += *n;
  }
  auto after = io.FStat(fd->get());
  if (!after.ok()) {
    op.status = after.status();
    return;
  }
  if (off != e.size || !Unchanged(e, *after)) {
    op.status = ChangedWhileRead();
    return;
  }
  op.hash = h.Finish();
  op.status = Status::Ok();
}

}  // namespace

LocalSide::LocalSide(io::BackendKind kind,
                     std::function<std::unique_ptr<io::IoBackend>()> factory)
    : kind_(kind), factory_(std::move(factory)) {}

io::IoBackend& LocalSide::io() {
  std::unique_ptr<io::IoBackend>& b = backends_.local();
  if (!b) {
    if (factory_) {
      b = factory_();
    } else {
      auto r = io::MakeBackend(kind_);
      // The kind was validated by VerifyTrees; a later failure (ring creation
      // on a busy system) falls back to plain syscalls.
      b = r.ok() ? std::move(r).value() : std::make_unique<io::PosixBackend>();
    }
  }
  return *b;
}

Result<std::shared_ptr<SideDir>> LocalSide::OpenRoot(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("open directory", path, errno);
  return std::shared_ptr<SideDir>(
      std::make_shared<LocalDir>(shared_from_this(), io::UniqueFd(fd)));
}

Result<std::shared_ptr<SideDir>> LocalSide::OpenRootBeneath(int base, const std::string& rel) {
  ASSIGN_OR_RETURN(io::UniqueFd fd,
                   io().OpenBeneath(base, rel == "." ? "" : rel, O_RDONLY | O_DIRECTORY, 0));
  return std::shared_ptr<SideDir>(std::make_shared<LocalDir>(shared_from_this(), std::move(fd)));
}

Result<std::shared_ptr<SideDir>> OpenDestinationDir(LocalSide& side, const std::string& path,
                                                    const std::string& shown) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::shared_ptr<SideDir>();
    return PosixError("destination", shown, errno);
  }
  if (!S_ISDIR(st.st_mode)) return PosixError("destination", shown, ENOTDIR);
  return side.OpenRoot(path);
}

}  // namespace ferry::verify
