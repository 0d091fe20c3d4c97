// LocalSide: a SideDir tree on a local path, read through the IoBackend seam
// (io_uring or POSIX; one backend per worker thread).
//
// Listing: one getdents pass and batched stats (huge directories are stat'ed
// in parallel chunks). Hashing: files up to kSmallFile bytes are read in
// batches of up to 8 MiB with IoBackend::ReadFiles (one io_uring submission
// per batch); larger files are read in 1 MiB chunks into a reused per-thread
// buffer. Every file is opened O_NOFOLLOW and checked after the read against
// its listing (device, inode, size, mtime): a file that changed meanwhile
// gets kChanged instead of a hash.
//
// Thread safety: see side.h; the LocalSide must outlive its directories.
#pragma once

#include <tbb/enumerable_thread_specific.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/io/io_backend.h"
#include "engine/verify/side.h"

namespace ferry::verify {

class LocalSide : public std::enable_shared_from_this<LocalSide> {
 public:
  // Regular files up to this size are hashed in batches.
  static constexpr uint64_t kSmallFile = 256 * 1024;

  // factory: tests' injected backends; null: MakeBackend(kind), falling back
  // to POSIX when a ring cannot be created.
  LocalSide(io::BackendKind kind,
            std::function<std::unique_ptr<io::IoBackend>()> factory);

  // Opens the directory at path (a path the user named: symlinks in it are
  // followed, as `open` does). Errors name the path.
  Result<std::shared_ptr<SideDir>> OpenRoot(const std::string& path);
  // Opens the directory `rel` beneath the directory fd `base` ("" or ".":
  // base itself) without following any symlink or leaving base's tree
  // (IoBackend::OpenBeneath): a daemon module's confinement. `base` stays
  // the caller's. Errors name `rel`.
  Result<std::shared_ptr<SideDir>> OpenRootBeneath(int base, const std::string& rel);

  // The calling thread's backend.
  io::IoBackend& io();

 private:
  io::BackendKind kind_;
  std::function<std::unique_ptr<io::IoBackend>()> factory_;
  tbb::enumerable_thread_specific<std::unique_ptr<io::IoBackend>> backends_;
};

// DST's root directory at `path`, or null when it does not exist (everything
// is then missing, as `rsync -n` would list it). Errors name `shown` (the
// path as the user wrote it): not a directory, unreadable.
Result<std::shared_ptr<SideDir>> OpenDestinationDir(LocalSide& side, const std::string& path,
                                                    const std::string& shown);

}  // namespace ferry::verify
