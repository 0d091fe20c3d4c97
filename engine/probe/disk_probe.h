// Disk probes for `ferry bench`: what a path's file system sustains for the
// two things a migration does to it, streaming big files and landing many
// small ones.
//
// Both probes write only under a fresh temporary name in `dir`
// (".ferry-bench.<random>") and remove it before returning, also on error.
//
// Thread safety: each call is independent; they run their own threads only
// in MeasureCreateRate (RunLocalSync with `jobs` workers).
#pragma once

#include <cstdint>
#include <string>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"

namespace ferry::probe {

struct SequentialResult {
  uint64_t bytes = 0;      // size of the file written, then read
  double write_bps = 0;    // bytes per second, data made durable
  double read_bps = 0;     // bytes per second, not from the page cache
  // How the cache was kept out: "O_DIRECT", or "fdatasync+fadvise" where the
  // file system refuses O_DIRECT (tmpfs, some FUSE) - then the write includes
  // an fdatasync and the read follows POSIX_FADV_DONTNEED (best effort: on
  // tmpfs the read is from memory, which is what that file system is).
  std::string method;
};

// Writes `bytes` (rounded up to 1 MiB) to a temporary file in dir in 1 MiB
// requests, makes it durable, then reads it back. Cost: `bytes` of writes and
// reads. Errors: the failing operation with its path (kInvalidArgument when
// bytes is 0).
Result<SequentialResult> MeasureSequential(io::IoBackend& io, const std::string& dir,
                                           uint64_t bytes);

struct CreateRateResult {
  uint64_t files = 0;
  uint64_t file_size = 0;
  double seconds = 0;
  double files_per_s = 0;
};

// Creates `files` files of `file_size` bytes in a temporary source directory
// under dir (not timed), then times `ferry sync` of it into a sibling
// directory: each file read, written under a temporary name, given its
// metadata and renamed into place - exactly the path small files take in a
// sync. jobs: worker threads (0 = all cores), as --jobs.
Result<CreateRateResult> MeasureCreateRate(const std::string& dir, uint64_t files,
                                           uint64_t file_size, int jobs);

}  // namespace ferry::probe
