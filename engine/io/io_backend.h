// The I/O seam. Every file-system operation of the engine goes through an
// IoBackend so the same engine runs on io_uring, on plain POSIX syscalls, and
// on fault-injecting wrappers in tests.
//
// Shape:
//  * Single operations mirror the *at() syscalls: names are one path component
//    relative to a held directory fd (never containing '/'), so the caller
//    controls confinement. Errors are PosixError(op, name, errno); callers that
//    know the full relative path re-wrap them with it.
//  * Batched operations carry the small-file hot path (read a whole source
//    file; create+write a temporary; close+rename it into place). POSIX runs a
//    batch as a loop of syscalls; io_uring submits the whole batch at once.
//    Each op in a batch succeeds or fails on its own (err != 0).
//
// Thread safety: an IoBackend is thread-compatible, not thread-safe. The
// engine owns one instance per worker thread (an io_uring ring per thread).
// Cost: single operations are one syscall each unless stated.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace ferry::io {

// Owns a file descriptor; closes it (with ::close) on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct DirEntry {
  std::string name;
  unsigned char d_type;  // DT_* from getdents; DT_UNKNOWN on some file systems
};

struct Xattr {
  std::string name;
  std::string value;
};

// Reads a whole small source file: open(O_NOFOLLOW) + read + fstat + close.
// The fstat is taken after the read so the caller can check both the identity
// (dev/ino against its scan) and that size/mtime did not move during the read.
struct ReadFileOp {
  // in
  int dirfd = -1;
  const char* name = nullptr;
  std::byte* buf = nullptr;  // caller-owned
  size_t buf_len = 0;        // pass expected size + 1 to detect growth
  // out
  int err = 0;                     // errno of the failed step, 0 on success
  const char* failed_op = nullptr;  // "open", "read", "fstat"
  size_t bytes_read = 0;
  struct stat st_after {};
};

// Creates name (O_CREAT|O_EXCL|O_WRONLY|O_NOFOLLOW) with mode and writes data.
// With name == nullptr the file is unnamed instead: O_TMPFILE in dirfd's
// directory, invisible until LandOp links it (err EOPNOTSUPP, EISDIR or
// EINVAL: the file system or kernel cannot; use a named temporary).
// On success fd is left open for metadata calls; the caller lands or closes it.
struct WriteFileOp {
  // in
  int dirfd = -1;
  const char* name = nullptr;  // nullptr: unnamed (O_TMPFILE)
  const char* final_name = nullptr;  // the name it will land as (fault tests)
  mode_t mode = 0600;
  const std::byte* data = nullptr;
  size_t len = 0;
  // out
  int err = 0;
  const char* failed_op = nullptr;  // "create", "write"
  int fd = -1;
};

// [fsync +] close fd, then renameat(dirfd, tmp_name -> final_name).
// With tmp_name == nullptr, fd is an unnamed file (WriteFileOp without a
// name): [fsync +] link it as final_name (LinkUnnamed: never replaces; err
// EEXIST when the name exists), then close; a close that fails unlinks the
// name again. fd is always closed, even on failure.
struct LandOp {
  // in
  int fd = -1;
  int dirfd = -1;
  const char* tmp_name = nullptr;  // nullptr: fd is unnamed, link it
  const char* final_name = nullptr;
  bool fsync = false;
  // out
  int err = 0;
  const char* failed_op = nullptr;  // "fsync", "close", "rename", "link"
};

// Gives the unnamed (O_TMPFILE) file fd the name dirfd/name; 0 or an errno
// (EEXIST when name exists: it is never replaced). Uses linkat(fd, "",
// AT_EMPTY_PATH), which needs CAP_DAC_READ_SEARCH on older kernels; when that
// is refused it switches, for the whole process, to linkat of
// "/proc/self/fd/N" with AT_SYMLINK_FOLLOW, which needs /proc.
int LinkUnnamed(int fd, int dirfd, const char* name);
// Whether LinkUnnamed currently tries AT_EMPTY_PATH first. Tests force the
// /proc path with SetLinkUnnamedByEmptyPath(false).
bool LinkUnnamedByEmptyPath();
void SetLinkUnnamedByEmptyPath(bool on);

// lstat-like: fstatat(dirfd, name, flags). flags is 0 or AT_SYMLINK_NOFOLLOW
// (the scan uses the latter: a symlink is reported as itself).
struct StatOp {
  // in
  int dirfd = -1;
  const char* name = nullptr;
  int flags = AT_SYMLINK_NOFOLLOW;
  // out
  int err = 0;  // errno (ENOENT for a vanished name), 0 on success
  struct stat st {};
};

class IoBackend {
 public:
  virtual ~IoBackend() = default;
  virtual const char* Name() const = 0;

  // --- opening ------------------------------------------------------------
  virtual Result<UniqueFd> OpenAt(int dirfd, const char* name, int flags,
                                  mode_t mode) = 0;
  // Opens relpath ("a/b/c", or "" for root itself) beneath root_fd without
  // following any symlink and without leaving root_fd's tree:
  // openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), or per-component O_NOFOLLOW
  // walks where openat2 is missing.
  virtual Result<UniqueFd> OpenBeneath(int root_fd, std::string_view relpath,
                                       int flags, mode_t mode) = 0;

  // --- reading metadata -------------------------------------------------
  // Lists a directory (without "." and ".."). Consumes dirfd's offset.
  virtual Result<std::vector<DirEntry>> ReadDir(int dirfd) = 0;
  virtual Result<struct stat> StatAt(int dirfd, const char* name,
                                     int flags) = 0;
  virtual Result<struct stat> FStat(int fd) = 0;
  virtual Result<std::string> ReadLinkAt(int dirfd, const char* name) = 0;

  // --- data -----------------------------------------------------------------
  // One read; may be short. 0 means end of file.
  virtual Result<size_t> PRead(int fd, std::span<std::byte> buf,
                               uint64_t off) = 0;
  // Writes all of buf (retrying short writes).
  virtual Status PWriteAll(int fd, std::span<const std::byte> buf,
                           uint64_t off) = 0;
  // copy_file_range; may copy less than len. 0 means end of input.
  virtual Result<size_t> CopyFileRange(int in_fd, uint64_t in_off, int out_fd,
                                       uint64_t out_off, size_t len) = 0;
  // FICLONE: out_fd shares in_fd's extents. kUnsupported when the file
  // system cannot.
  virtual Status Clone(int out_fd, int in_fd) = 0;
  // lseek(SEEK_DATA / SEEK_HOLE). Past the last data: returns file size for
  // hole, and kNotFound (ENXIO) for data.
  virtual Result<uint64_t> SeekData(int fd, uint64_t off) = 0;
  virtual Result<uint64_t> SeekHole(int fd, uint64_t off) = 0;
  virtual Status FTruncate(int fd, uint64_t len) = 0;
  virtual Status FSync(int fd) = 0;

  // --- creating and removing ------------------------------------------------
  virtual Status MkdirAt(int dirfd, const char* name, mode_t mode) = 0;
  virtual Status SymlinkAt(const char* target, int dirfd, const char* name) = 0;
  virtual Status LinkAt(int old_dirfd, const char* old_name, int new_dirfd,
                        const char* new_name) = 0;
  virtual Status MknodAt(int dirfd, const char* name, mode_t mode,
                         dev_t dev) = 0;
  virtual Status RenameAt(int old_dirfd, const char* old_name, int new_dirfd,
                          const char* new_name) = 0;
  // flags: 0 or AT_REMOVEDIR.
  virtual Status UnlinkAt(int dirfd, const char* name, int flags) = 0;

  // --- metadata -------------------------------------------------------------
  virtual Status FChown(int fd, uid_t uid, gid_t gid) = 0;
  virtual Status FChmod(int fd, mode_t mode) = 0;
  virtual Status FUtimens(int fd, const struct timespec times[2]) = 0;
  // The *At forms never follow a final symlink (AT_SYMLINK_NOFOLLOW); use
  // them for entries that cannot be opened (symlinks, devices, fifos).
  virtual Status ChownAt(int dirfd, const char* name, uid_t uid,
                         gid_t gid) = 0;
  virtual Status ChmodAt(int dirfd, const char* name, mode_t mode) = 0;
  virtual Status UtimensAt(int dirfd, const char* name,
                           const struct timespec times[2]) = 0;

  // Extended attributes (POSIX ACLs are the system.posix_acl_* ones). With
  // name == nullptr they act on fd; otherwise on dirfd/name without following
  // a final symlink. Values are returned sorted by attribute name.
  virtual Result<std::vector<Xattr>> ReadXattrs(int fd, const char* name) = 0;
  virtual Status SetXattr(int fd, const char* name, const Xattr& x) = 0;
  virtual Status RemoveXattr(int fd, const char* name,
                             const std::string& attr) = 0;

  // --- batches (the small-file hot path) -------------------------------------
  virtual void ReadFiles(std::span<ReadFileOp> ops) = 0;
  virtual void CreateFiles(std::span<WriteFileOp> ops) = 0;
  virtual void LandFiles(std::span<LandOp> ops) = 0;
  // Stats every op's dirfd/name (the scan's per-entry stat). Ops are
  // independent and may run in any order (overlapped on io_uring); each
  // succeeds or fails on its own (err != 0, st then unspecified).
  virtual void StatFiles(std::span<StatOp> ops) = 0;
};

enum class BackendKind { kAuto, kUring, kPosix };

// Parses "auto" | "uring" | "io_uring" | "posix".
Result<BackendKind> ParseBackendKind(std::string_view s);

// Whether io_uring can be used here. On false, *why says why (disabled by
// sysctl, blocked by seccomp, not built in). Probes once and caches.
bool UringAvailable(std::string* why);

// The backend kAuto resolves to on this machine: "io_uring" or "posix".
const char* AutoBackendName();

// Creates one backend instance (for one thread). kUring fails with
// kUnsupported when io_uring is unavailable; kAuto falls back to POSIX.
Result<std::unique_ptr<IoBackend>> MakeBackend(BackendKind kind);

}  // namespace ferry::io
