#include "engine/io/uring_backend.h"

#include <liburing.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace ferry::io {

// Stages double as the tag in the low 3 bits of an SQE's user_data (the slot
// pointer is 8-aligned), so a completion names both its op and its step.
enum Stage : uint8_t {
  kOpen = 0,  // ReadFiles open / CreateFiles create
  kRead = 1,  // ReadFiles read / CreateFiles write
  kClose = 2,
  kFsync = 3,
  kRename = 4,
  kChain = 5,  // LandFiles: not started (fsync or close comes next)
  kStat = 6,   // StatFiles statx
  kDone = 7,
};

struct alignas(8) UringBackend::Slot {
  uint32_t index = 0;  // op index in the batch
  Stage stage = kOpen;
  int fd = -1;
  size_t done = 0;  // bytes read or written so far
};

namespace {

constexpr uint64_t kTagMask = 7;

uint64_t UserData(UringBackend::Slot* s, Stage tag) {
  return reinterpret_cast<uintptr_t>(s) | tag;
}

io_uring_sqe* GetSqe(io_uring* ring, UringBackend::Slot* s, Stage tag) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring);  // Drive checked the space
  io_uring_sqe_set_data64(sqe, UserData(s, tag));
  return sqe;
}

bool Retryable(int res) { return res == -EINTR || res == -EAGAIN; }

// The struct stat fstatat would have filled, from a STATX_BASIC_STATS result.
// Fields outside stx_mask (none on local file systems) stay as the kernel
// left them: zero, as in fstatat's struct stat.
void StatxToStat(const struct statx& x, struct stat* st) {
  *st = {};
  st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
  st->st_ino = static_cast<ino_t>(x.stx_ino);
  st->st_mode = static_cast<mode_t>(x.stx_mode);
  st->st_nlink = static_cast<nlink_t>(x.stx_nlink);
  st->st_uid = static_cast<uid_t>(x.stx_uid);
  st->st_gid = static_cast<gid_t>(x.stx_gid);
  st->st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
  st->st_size = static_cast<off_t>(x.stx_size);
  st->st_blksize = static_cast<blksize_t>(x.stx_blksize);
  st->st_blocks = static_cast<blkcnt_t>(x.stx_blocks);
  st->st_atim.tv_sec = static_cast<time_t>(x.stx_atime.tv_sec);
  st->st_atim.tv_nsec = static_cast<long>(x.stx_atime.tv_nsec);
  st->st_mtim.tv_sec = static_cast<time_t>(x.stx_mtime.tv_sec);
  st->st_mtim.tv_nsec = static_cast<long>(x.stx_mtime.tv_nsec);
  st->st_ctim.tv_sec = static_cast<time_t>(x.stx_ctime.tv_sec);
  st->st_ctim.tv_nsec = static_cast<long>(x.stx_ctime.tv_nsec);
}

int SetupRing(unsigned entries, io_uring* ring) {
  // Newest flags first; older kernels reject unknown ones with EINVAL.
  // SINGLE_ISSUER/DEFER_TASKRUN are left out on purpose: they bind the ring
  // to its creating thread, and an instance may move between threads.
  const unsigned tries[] = {
      IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,  // 5.19
      IORING_SETUP_SUBMIT_ALL,                               // 5.18
      0,
  };
  int r = -EINVAL;
  for (unsigned flags : tries) {
    io_uring_params p{};
    p.flags = flags | IORING_SETUP_CQSIZE;
    p.cq_entries = entries * 2;
    r = io_uring_queue_init_params(entries, ring, &p);
    if (r != -EINVAL) return r;
  }
  return r;
}

std::string SetupFailure(int err) {
  std::string why = "io_uring_setup failed: ";
  why += std::strerror(err);
  if (err == EPERM) {
    why += " (io_uring disabled by sysctl kernel.io_uring_disabled, or "
           "blocked by a seccomp filter such as Docker's default profile)";
  } else if (err == ENOSYS) {
    why += " (kernel built without CONFIG_IO_URING, or the syscall is "
           "filtered by seccomp)";
  } else if (err == ENOMEM) {
    why += " (locked-memory limit too low for the ring; raise ulimit -l)";
  }
  return why;
}

// Contents of /proc/sys/kernel/io_uring_disabled: 0 (enabled), 1 (only
// CAP_SYS_ADMIN and kernel.io_uring_group), 2 (off); -1 when absent (<6.6).
int DisabledSysctl() {
  FILE* f = std::fopen("/proc/sys/kernel/io_uring_disabled", "re");
  if (f == nullptr) return -1;
  int v = -1;
  if (std::fscanf(f, "%d", &v) != 1) v = -1;
  std::fclose(f);
  return v;
}

}  // namespace

UringBackend::UringBackend(const UringOptions& options) : options_(options) {
  if (options_.queue_depth < 4) options_.queue_depth = 4;
  if (options_.queue_depth > 4096) options_.queue_depth = 4096;
}

UringBackend::~UringBackend() {
  if (ring_) io_uring_queue_exit(ring_.get());
}

Result<std::unique_ptr<UringBackend>> UringBackend::Create(
    const UringOptions& options) {
  std::unique_ptr<UringBackend> b(new UringBackend(options));
  auto ring = std::make_unique<io_uring>();
  int r = SetupRing(b->options_.queue_depth, ring.get());
  if (r < 0) return Status(ErrorCode::kUnsupported, SetupFailure(-r), -r);
  b->ring_ = std::move(ring);
  return b;
}

template <class NextFn, class PrepFn, class DoneFn>
int UringBackend::Drive(size_t n, NextFn&& next, PrepFn&& prep,
                        DoneFn&& done) {
  io_uring* ring = ring_.get();
  const unsigned depth = options_.queue_depth;
  unsigned inflight = 0;  // SQEs queued or submitted, completion not reaped
  size_t fresh = 0;       // first op not started yet
  ready_.clear();
  for (;;) {
    // Queue every step the depth bound and the SQ allow. Ops already under
    // way go first, so at most `depth` ops hold an fd at any time.
    for (;;) {
      const bool from_ready = !ready_.empty();
      Slot* s;
      if (from_ready) {
        s = ready_.back();
      } else if (fresh < n) {
        s = &slots_[fresh];
      } else {
        break;
      }
      unsigned k = next(*s);
      if (k != 0 &&
          (inflight + k > depth || io_uring_sq_space_left(ring) < k)) {
        break;  // full: submit and reap below, then come back for it
      }
      if (from_ready) {
        ready_.pop_back();
      } else {
        ++fresh;
      }
      if (k == 0) continue;  // finished without the ring
      prep(*s);
      inflight += k;
    }
    if (inflight == 0) return 0;  // nothing queued, nothing left to queue

    // One syscall submits the whole round and waits for a completion.
    int r = io_uring_submit_and_wait(ring, 1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
      // The ring is unusable. Collect what the kernel already took, so no
      // request still points into the caller's buffers when we return.
      broken_ = true;
      unsigned submitted = inflight - io_uring_sq_ready(ring);
      while (submitted > 0) {
        io_uring_cqe* cqe;
        int w = io_uring_wait_cqe(ring, &cqe);
        if (w == -EINTR) continue;
        if (w < 0) break;
        Slot* s = reinterpret_cast<Slot*>(cqe->user_data & ~kTagMask);
        done(*s, static_cast<Stage>(cqe->user_data & kTagMask), cqe->res);
        io_uring_cqe_seen(ring, cqe);
        --submitted;
      }
      return r;
    }

    unsigned head, seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring, head, cqe) {
      ++seen;
      Slot* s = reinterpret_cast<Slot*>(cqe->user_data & ~kTagMask);
      if (done(*s, static_cast<Stage>(cqe->user_data & kTagMask), cqe->res))
        ready_.push_back(s);
    }
    io_uring_cq_advance(ring, seen);
    inflight -= seen;
  }
}

void UringBackend::StartBatch(size_t n, uint8_t first_stage) {
  slots_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    slots_[i] = Slot{static_cast<uint32_t>(i), static_cast<Stage>(first_stage),
                     -1, 0};
  }
}

// Per op: open -> read... -> fstat (a plain syscall: IORING_OP_STATX is always
// punted to a kernel worker thread) -> close. Direct descriptors would let
// open/read/close go as one linked chain, but the fstat-after-read identity
// check needs a real fd.
void UringBackend::ReadFiles(std::span<ReadFileOp> ops) {
  if (broken_) return PosixBackend::ReadFiles(ops);
  StartBatch(ops.size(), kOpen);
  io_uring* ring = ring_.get();

  auto finish_read = [&](Slot& s, ReadFileOp& op) {
    op.bytes_read = s.done;
    if (op.err == 0 && ::fstat(s.fd, &op.st_after) != 0) {
      op.err = errno;
      op.failed_op = "fstat";
    }
    s.stage = kClose;
  };
  auto next = [](Slot& s) -> unsigned { return s.stage == kDone ? 0 : 1; };
  auto prep = [&](Slot& s) {
    ReadFileOp& op = ops[s.index];
    io_uring_sqe* sqe = GetSqe(ring, &s, s.stage);
    if (s.stage == kOpen) {
      io_uring_prep_openat(sqe, op.dirfd, op.name,
                           O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    } else if (s.stage == kRead) {
      io_uring_prep_read(sqe, s.fd, op.buf + s.done,
                         static_cast<unsigned>(std::min<size_t>(
                             op.buf_len - s.done, 1u << 30)),
                         s.done);
    } else {
      io_uring_prep_close(sqe, s.fd);
    }
  };
  auto done = [&](Slot& s, Stage tag, int res) -> bool {
    ReadFileOp& op = ops[s.index];
    switch (tag) {
      case kOpen:
        if (res < 0) {
          if (res == -EINTR) return true;
          op.err = -res;
          op.failed_op = "open";
          s.stage = kDone;
          return false;
        }
        s.fd = res;
        if (op.buf_len == 0) {
          finish_read(s, op);
        } else {
          s.stage = kRead;
        }
        return true;
      case kRead:
        if (res < 0) {
          if (Retryable(res)) return true;
          op.err = -res;
          op.failed_op = "read";
          op.bytes_read = s.done;
          s.stage = kClose;
          return true;
        }
        s.done += static_cast<size_t>(res);
        if (res == 0 || s.done == op.buf_len) {
          finish_read(s, op);
        } else if (options_.eof_from_fstat) {
          // A short read. For a regular file whose size is what we hold, the
          // next read would return 0: skip it. The fstat is the after-read
          // one PosixBackend would take at EOF.
          struct stat st;
          if (::fstat(s.fd, &st) == 0 && S_ISREG(st.st_mode) &&
              static_cast<uint64_t>(st.st_size) == s.done) {
            op.st_after = st;
            op.bytes_read = s.done;
            s.stage = kClose;
          }
        }
        return true;
      default:  // kClose: like PosixBackend, a read-side close error is moot
        s.fd = -1;
        s.stage = kDone;
        return false;
    }
  };

  int r = Drive(ops.size(), next, prep, done);
  if (r < 0) {
    for (Slot& s : slots_) {
      if (s.stage == kDone) continue;
      ReadFileOp& op = ops[s.index];
      // At kClose the op already has its data and fstat; only close is due.
      if (op.err == 0 && s.stage != kClose) {
        op.err = -r;
        op.failed_op = s.stage == kOpen ? "open" : "read";
      }
      if (s.fd >= 0) ::close(s.fd);
      s.stage = kDone;
    }
  }
}

// Per op: openat(O_CREAT|O_EXCL) -> write... ; the fd stays open.
void UringBackend::CreateFiles(std::span<WriteFileOp> ops) {
  if (broken_) return PosixBackend::CreateFiles(ops);
  StartBatch(ops.size(), kOpen);
  io_uring* ring = ring_.get();
  constexpr int kFlags = O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
  constexpr int kUnnamedFlags = O_TMPFILE | O_WRONLY | O_CLOEXEC;

  auto opened = [&](Slot& s, WriteFileOp& op, int fd) {
    s.fd = fd;
    if (op.len == 0) {
      op.fd = fd;
      s.stage = kDone;
    } else {
      s.stage = kRead;
    }
  };
  auto fail = [&](Slot& s, WriteFileOp& op, int err, const char* what) {
    op.err = err;
    op.failed_op = what;
    if (s.fd >= 0) ::close(s.fd);
    s.fd = -1;
    s.stage = kDone;
  };
  auto next = [&](Slot& s) -> unsigned {
    if (s.stage == kOpen && options_.sync_create_open) {
      WriteFileOp& op = ops[s.index];
      int fd = op.name == nullptr
                   ? ::openat(op.dirfd, ".", kUnnamedFlags, op.mode)
                   : ::openat(op.dirfd, op.name, kFlags, op.mode);
      if (fd < 0) {
        fail(s, op, errno, "create");
      } else {
        opened(s, op, fd);
      }
    }
    return s.stage == kDone ? 0 : 1;
  };
  auto prep = [&](Slot& s) {
    WriteFileOp& op = ops[s.index];
    io_uring_sqe* sqe = GetSqe(ring, &s, s.stage);
    if (s.stage == kOpen) {
      if (op.name == nullptr) {
        io_uring_prep_openat(sqe, op.dirfd, ".", kUnnamedFlags, op.mode);
      } else {
        io_uring_prep_openat(sqe, op.dirfd, op.name, kFlags, op.mode);
      }
    } else {
      io_uring_prep_write(sqe, s.fd, op.data + s.done,
                          static_cast<unsigned>(
                              std::min<size_t>(op.len - s.done, 1u << 30)),
                          s.done);
    }
  };
  auto done = [&](Slot& s, Stage tag, int res) -> bool {
    WriteFileOp& op = ops[s.index];
    if (tag == kOpen) {
      if (res < 0) {
        if (res == -EINTR) return true;
        fail(s, op, -res, "create");
        return false;
      }
      opened(s, op, res);
      return s.stage != kDone;
    }
    if (res < 0) {
      if (Retryable(res)) return true;
      fail(s, op, -res, "write");
      return false;
    }
    if (res == 0) {  // PosixBackend::PWriteAll's convention
      fail(s, op, EIO, "write");
      return false;
    }
    s.done += static_cast<size_t>(res);
    if (s.done < op.len) return true;
    op.fd = s.fd;
    s.stage = kDone;
    return false;
  };

  int r = Drive(ops.size(), next, prep, done);
  if (r < 0) {
    for (Slot& s : slots_) {
      if (s.stage == kDone) continue;
      fail(s, ops[s.index], -r, s.stage == kOpen ? "create" : "write");
    }
  }
}

// Per op: [fsync ->] close -> renameat, each step queued when the previous
// one completed. No IOSQE_IO_LINK chain: a failing IORING_OP_FSYNC does not
// break its link (measured on 6.18: the linked op still runs), and a rename
// must never follow a failed fsync or close.
// An unnamed file (tmp_name == nullptr) goes [fsync ->] linkat -> close
// instead: the link needs the open fd. Its kRename step is the link.
void UringBackend::LandFiles(std::span<LandOp> ops) {
  if (broken_) return PosixBackend::LandFiles(ops);
  StartBatch(ops.size(), kChain);
  io_uring* ring = ring_.get();
  // Whether the link was made, so a failed close can take the name back.
  std::vector<uint8_t> linked(ops.size(), 0);

  auto after_fsync = [&](const LandOp& op) {
    return op.tmp_name == nullptr && op.err == 0 ? kRename : kClose;
  };
  auto next = [&](Slot& s) -> unsigned {
    LandOp& op = ops[s.index];
    if (s.stage == kChain) s.stage = op.fsync ? kFsync : after_fsync(op);
    if (s.stage == kRename && op.tmp_name == nullptr &&
        !LinkUnnamedByEmptyPath()) {
      // The /proc/self/fd fallback: a plain syscall (rare: not root on an
      // older kernel).
      op.err = LinkUnnamed(op.fd, op.dirfd, op.final_name);
      if (op.err != 0) op.failed_op = "link";
      linked[s.index] = op.err == 0;
      s.stage = kClose;
    }
    if (s.stage == kRename && op.tmp_name != nullptr && options_.sync_rename) {
      if (::renameat(op.dirfd, op.tmp_name, op.dirfd, op.final_name) != 0) {
        op.err = errno;
        op.failed_op = "rename";
      }
      s.stage = kDone;
    }
    return s.stage == kDone ? 0 : 1;
  };
  auto prep = [&](Slot& s) {
    LandOp& op = ops[s.index];
    io_uring_sqe* sqe = GetSqe(ring, &s, s.stage);
    if (s.stage == kFsync) {
      io_uring_prep_fsync(sqe, op.fd, 0);
    } else if (s.stage == kClose) {
      io_uring_prep_close(sqe, op.fd);
    } else if (op.tmp_name == nullptr) {
      io_uring_prep_linkat(sqe, op.fd, "", op.dirfd, op.final_name,
                           AT_EMPTY_PATH);
    } else {
      io_uring_prep_renameat(sqe, op.dirfd, op.tmp_name, op.dirfd,
                             op.final_name, 0);
    }
  };
  auto done = [&](Slot& s, Stage tag, int res) -> bool {
    LandOp& op = ops[s.index];
    if (tag == kFsync) {
      if (res < 0) {
        op.err = -res;
        op.failed_op = "fsync";
      }
      s.stage = after_fsync(op);  // closed either way
      return true;
    }
    if (tag == kClose) {
      // close() can report a deferred write error (NFS, quota); never land
      // a file whose data may not have been written. The fd is gone anyway.
      if (res < 0 && op.err == 0) {
        op.err = -res;
        op.failed_op = "close";
      }
      op.fd = -1;
      if (op.tmp_name == nullptr) {  // unnamed: already linked (or failed)
        if (linked[s.index] && op.err != 0)
          (void)::unlinkat(op.dirfd, op.final_name, 0);
        s.stage = kDone;
        return false;
      }
      if (op.err != 0) {
        s.stage = kDone;
        return false;
      }
      s.stage = kRename;
      return true;
    }
    if (op.tmp_name == nullptr) {  // kRename of an unnamed file: the link
      if (res == -ENOENT && LinkUnnamedByEmptyPath()) {
        // Refused for want of CAP_DAC_READ_SEARCH (or the directory went
        // away): LinkUnnamed retries through /proc and remembers.
        res = -LinkUnnamed(op.fd, op.dirfd, op.final_name);
      }
      if (res < 0) {
        op.err = -res;
        op.failed_op = "link";
      } else {
        linked[s.index] = 1;
      }
      s.stage = kClose;
      return true;
    }
    if (res < 0) {  // kRename
      op.err = -res;
      op.failed_op = "rename";
    }
    s.stage = kDone;
    return false;
  };

  int r = Drive(ops.size(), next, prep, done);
  if (r < 0) {
    for (Slot& s : slots_) {
      if (s.stage == kDone) continue;
      LandOp& op = ops[s.index];
      if (op.fd >= 0) ::close(op.fd);  // never landed: the data is unsure
      op.fd = -1;
      if (linked[s.index]) (void)::unlinkat(op.dirfd, op.final_name, 0);
      if (op.err == 0) {
        op.err = -r;
        op.failed_op = s.stage == kRename  ? (op.tmp_name ? "rename" : "link")
                       : s.stage == kFsync ? "fsync"
                                           : "close";
      }
      s.stage = kDone;
    }
  }
}

// Per op: one IORING_OP_STATX into statx_[index]. The kernel punts STATX to
// its io-wq workers; overlapping up to queue_depth of them still costs less
// CPU than an fstatat loop (bench/results/io.md, "stat").
void UringBackend::StatFiles(std::span<StatOp> ops) {
  if (broken_) return PosixBackend::StatFiles(ops);
  StartBatch(ops.size(), kStat);
  statx_.resize(ops.size());
  io_uring* ring = ring_.get();

  auto next = [](Slot& s) -> unsigned { return s.stage == kDone ? 0 : 1; };
  auto prep = [&](Slot& s) {
    StatOp& op = ops[s.index];
    io_uring_sqe* sqe = GetSqe(ring, &s, kStat);
    io_uring_prep_statx(sqe, op.dirfd, op.name, op.flags, STATX_BASIC_STATS,
                        &statx_[s.index]);
  };
  auto done = [&](Slot& s, Stage, int res) -> bool {
    if (Retryable(res)) return true;
    StatOp& op = ops[s.index];
    if (res < 0) {
      op.err = -res;
    } else {
      op.err = 0;
      StatxToStat(statx_[s.index], &op.st);
    }
    s.stage = kDone;
    return false;
  };

  int r = Drive(ops.size(), next, prep, done);
  if (r < 0) {
    // The ring failed; a stat has no side effect, so finish the rest with
    // plain fstatat instead of failing them.
    for (Slot& s : slots_) {
      if (s.stage == kDone) continue;
      PosixBackend::StatFiles(ops.subspan(s.index, 1));
      s.stage = kDone;
    }
  }
}

bool ProbeUring(std::string* why) {
  auto fail = [why](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  int disabled = DisabledSysctl();
  if (disabled == 2)
    return fail("io_uring is disabled by sysctl kernel.io_uring_disabled=2");

  io_uring ring{};
  int r = io_uring_queue_init(4, &ring, 0);
  if (r < 0) {
    std::string reason = SetupFailure(-r);
    if (disabled == 1) {
      reason += "; kernel.io_uring_disabled=1 allows it only to "
                "CAP_SYS_ADMIN and members of kernel.io_uring_group";
    }
    return fail(reason);
  }

  std::string missing;
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) {
    io_uring_queue_exit(&ring);
    return fail("io_uring opcode probe unsupported (kernel older than 5.6)");
  }
  const struct {
    int op;
    const char* name;
  } needed[] = {
      {IORING_OP_OPENAT, "OPENAT"}, {IORING_OP_READ, "READ"},
      {IORING_OP_WRITE, "WRITE"},   {IORING_OP_CLOSE, "CLOSE"},
      {IORING_OP_RENAMEAT, "RENAMEAT"}, {IORING_OP_STATX, "STATX"},
      {IORING_OP_FSYNC, "FSYNC"},   {IORING_OP_LINKAT, "LINKAT"},
  };
  for (const auto& n : needed) {
    if (!io_uring_opcode_supported(probe, n.op)) {
      if (!missing.empty()) missing += ", ";
      missing += n.name;
    }
  }
  io_uring_free_probe(probe);

  // A seccomp filter may allow io_uring_setup yet refuse io_uring_enter.
  int enter_err = 0;
  if (missing.empty()) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    io_uring_cqe* cqe = nullptr;
    int s = io_uring_submit_and_wait(&ring, 1);
    if (s < 0) {
      enter_err = -s;
    } else if (io_uring_wait_cqe(&ring, &cqe) == 0) {
      io_uring_cqe_seen(&ring, cqe);
    }
  }
  io_uring_queue_exit(&ring);

  if (!missing.empty()) {
    std::string reason = "kernel io_uring lacks opcodes: " + missing;
    utsname u{};
    if (::uname(&u) == 0) reason += std::string(" (kernel ") + u.release + ")";
    return fail(reason);
  }
  if (enter_err != 0) {
    return fail(std::string("io_uring_enter failed: ") +
                std::strerror(enter_err) + " (blocked by a seccomp filter?)");
  }
  if (why) why->clear();
  return true;
}

Result<std::unique_ptr<IoBackend>> MakeUringBackend() {
  std::string why;
  if (!UringAvailable(&why))
    return Status(ErrorCode::kUnsupported, "io_uring unavailable: " + why);
  ASSIGN_OR_RETURN(std::unique_ptr<UringBackend> b, UringBackend::Create());
  return std::unique_ptr<IoBackend>(std::move(b));
}

}  // namespace ferry::io
