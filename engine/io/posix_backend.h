// PosixBackend: every IoBackend operation as the plain syscall. It is also the
// base of the io_uring backend, which overrides the operations io_uring can
// batch and inherits the rest (io_uring has no fchown/futimens).
//
// Thread safety: thread-compatible; stateless apart from the vtable.
#pragma once

#include "engine/io/io_backend.h"

namespace ferry::io {

// Xattrs of dirfd/name use Linux 6.13's *xattrat() syscalls and fall back to
// the l*xattr() calls on the /proc/self/fd path when the kernel lacks them.
// Tests force the fallback with SetXattrAtForTesting(false).
void SetXattrAtForTesting(bool use_xattrat);

class PosixBackend : public IoBackend {
 public:
  const char* Name() const override { return "posix"; }

  Result<UniqueFd> OpenAt(int dirfd, const char* name, int flags,
                          mode_t mode) override;
  Result<UniqueFd> OpenBeneath(int root_fd, std::string_view relpath,
                               int flags, mode_t mode) override;
  Result<std::vector<DirEntry>> ReadDir(int dirfd) override;
  Result<struct stat> StatAt(int dirfd, const char* name, int flags) override;
  Result<struct stat> FStat(int fd) override;
  Result<std::string> ReadLinkAt(int dirfd, const char* name) override;
  Result<size_t> PRead(int fd, std::span<std::byte> buf,
                       uint64_t off) override;
  Status PWriteAll(int fd, std::span<const std::byte> buf,
                   uint64_t off) override;
  Result<size_t> CopyFileRange(int in_fd, uint64_t in_off, int out_fd,
                               uint64_t out_off, size_t len) override;
  Status Clone(int out_fd, int in_fd) override;
  Result<uint64_t> SeekData(int fd, uint64_t off) override;
  Result<uint64_t> SeekHole(int fd, uint64_t off) override;
  Status FTruncate(int fd, uint64_t len) override;
  Status FSync(int fd) override;
  Status MkdirAt(int dirfd, const char* name, mode_t mode) override;
  Status SymlinkAt(const char* target, int dirfd, const char* name) override;
  Status LinkAt(int old_dirfd, const char* old_name, int new_dirfd,
                const char* new_name) override;
  Status MknodAt(int dirfd, const char* name, mode_t mode, dev_t dev) override;
  Status RenameAt(int old_dirfd, const char* old_name, int new_dirfd,
                  const char* new_name) override;
  Status UnlinkAt(int dirfd, const char* name, int flags) override;
  Status FChown(int fd, uid_t uid, gid_t gid) override;
  Status FChmod(int fd, mode_t mode) override;
  Status FUtimens(int fd, const struct timespec times[2]) override;
  Status ChownAt(int dirfd, const char* name, uid_t uid, gid_t gid) override;
  Status ChmodAt(int dirfd, const char* name, mode_t mode) override;
  Status UtimensAt(int dirfd, const char* name,
                   const struct timespec times[2]) override;
  Result<std::vector<Xattr>> ReadXattrs(int fd, const char* name) override;
  Status SetXattr(int fd, const char* name, const Xattr& x) override;
  Status RemoveXattr(int fd, const char* name,
                     const std::string& attr) override;
  void ReadFiles(std::span<ReadFileOp> ops) override;
  void CreateFiles(std::span<WriteFileOp> ops) override;
  void LandFiles(std::span<LandOp> ops) override;
  void StatFiles(std::span<StatOp> ops) override;
};

}  // namespace ferry::io
