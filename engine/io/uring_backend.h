// UringBackend: an IoBackend whose batched operations (ReadFiles, CreateFiles,
// LandFiles, StatFiles) run on io_uring via liburing, one ring per instance (so one per
// worker thread). Everything else, single operations included, is inherited
// from PosixBackend: a single synchronous call costs one syscall either way,
// and io_uring has no fchown/futimens/xattr-on-fd before recent kernels.
//
// Per-op semantics are PosixBackend's exactly: the same err / failed_op
// values, ReadFiles reads until EOF or buf_len and fstats after the read,
// LandFiles always closes fd, StatFiles fills the same struct stat as
// fstatat (IORING_OP_STATX with STATX_BASIC_STATS, converted field by field). Only the order in which ops of one batch run
// differs (they overlap), so ops in one batch must be independent: no two
// ops may name the same file.
//
// Loop shape (ARCHITECTURE.md rule 5): at most queue_depth requests in
// flight; one io_uring_enter per round submits every queued SQE and waits for
// at least one completion; completions are reaped in a batch; each SQE's
// user_data points at its op's state; short reads/writes and -EAGAIN/-EINTR
// are requeued; a full submission queue means "submit and reap, then retry".
//
// Thread safety: thread-compatible (one instance per worker thread). The ring
// is not bound to the creating thread, so an instance may move between
// threads between calls.
// Cost: a batch of n ops costs about (stages per op) ring round trips in
// total, not per op; see bench/results/io.md for the measured comparison.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/posix_backend.h"

struct io_uring;  // liburing's ring; kept out of this header
struct statx;     // <sys/stat.h> (glibc >= 2.28, _GNU_SOURCE)

namespace ferry::io {

// Tuning knobs, fixed at construction. The defaults are the measured best on
// the reference machine (bench/results/io.md); the others exist so the
// benchmark can compare variants side by side.
struct UringOptions {
  // Requests in flight at once (SQ entries; the CQ is twice as large, so it
  // can never overflow). Clamped to [4, 4096].
  unsigned queue_depth = 128;
  // ReadFiles: after a short read, a regular file whose fstat size equals the
  // bytes read is at EOF, so the final zero-length read is skipped. Same
  // result as reading to EOF; saves one ring round trip per file.
  bool eof_from_fstat = true;
  // CreateFiles: run openat(O_CREAT) as a plain syscall instead of on the
  // ring. io_uring always punts O_CREAT opens to its worker threads (io-wq),
  // yet overlapping them there measured faster, so off by default.
  bool sync_create_open = false;
  // LandFiles: run renameat as a plain syscall after the ring closed the fd.
  // io_uring always punts renames to io-wq; still measured faster there.
  bool sync_rename = false;
};

class UringBackend : public PosixBackend {
 public:
  // Sets up the ring. kUnsupported (with the reason) when io_uring cannot be
  // used; does not probe opcodes (ProbeUring does).
  static Result<std::unique_ptr<UringBackend>> Create(
      const UringOptions& options = {});
  ~UringBackend() override;
  UringBackend(const UringBackend&) = delete;
  UringBackend& operator=(const UringBackend&) = delete;

  const char* Name() const override { return "io_uring"; }

  void ReadFiles(std::span<ReadFileOp> ops) override;
  void CreateFiles(std::span<WriteFileOp> ops) override;
  void LandFiles(std::span<LandOp> ops) override;
  void StatFiles(std::span<StatOp> ops) override;

  struct Slot;  // one op's progress through a batch (defined in the .cc)

 private:
  explicit UringBackend(const UringOptions& options);

  // Drives one batch of n ops through the ring. `next(slot)` runs any synchronous
  // step and says how many SQEs the slot's next step needs (0: finished), `prep(slot)` fills them
  // (they are guaranteed available), `done(slot, tag, res)` handles one
  // completion and returns true when the slot has another step to queue.
  // Returns 0, or -errno when the ring failed (then broken_ is set, every
  // request the kernel took has completed, and unfinished slots are left for
  // the caller to fail).
  template <class NextFn, class PrepFn, class DoneFn>
  int Drive(size_t n, NextFn&& next, PrepFn&& prep, DoneFn&& done);
  void StartBatch(size_t n, uint8_t first_stage);

  UringOptions options_;
  std::unique_ptr<io_uring> ring_;  // set up iff non-null
  // Set when the ring failed in a way that cannot be retried; later batches
  // then run on PosixBackend (the ring is never reaped again).
  bool broken_ = false;
  std::vector<Slot> slots_;   // one per op of the current batch
  std::vector<Slot*> ready_;  // slots whose next step waits for SQ space
  std::vector<struct statx> statx_;  // StatFiles: one result per op
};

// Whether a ring can be created and supports the opcodes the backend uses.
// On false, *why names the cause (kernel.io_uring_disabled, seccomp, ...).
// Probes afresh on every call (a ring setup: ~tens of microseconds); the
// factory caches the answer (UringAvailable).
bool ProbeUring(std::string* why);

// A new backend with its own ring; kUnsupported when ProbeUring() fails.
Result<std::unique_ptr<IoBackend>> MakeUringBackend();

}  // namespace ferry::io
