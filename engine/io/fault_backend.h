// FaultBackend: wraps another backend and makes chosen operations fail, for
// tests of the engine's error paths (EIO, ENOSPC, a short write that stops).
//
// A rule matches an operation name ("write", "create", "rename", "read",
// "open", "mkdir", "setxattr", ...) and, optionally, a file name substring
// (names are single components, so "big.dat" matches only that file). The
// rule fires on its `after`-th match (0 = first) and then every time.
// "create_unnamed" fails only unnamed (O_TMPFILE) creates of a batch, to
// play a file system without O_TMPFILE (use EOPNOTSUPP); "rename" also fails
// the link that lands an unnamed file.
//
// Thread safety: rules are set before use; counters are atomic.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/posix_backend.h"

namespace ferry::io {

struct FaultRule {
  std::string op;
  std::string name_contains;  // empty: any name (and ops without a name)
  int err = EIO;
  int after = 0;
};

class FaultBackend : public PosixBackend {
 public:
  explicit FaultBackend(std::vector<FaultRule> rules);
  const char* Name() const override { return "fault"; }

  Result<UniqueFd> OpenAt(int dirfd, const char* name, int flags,
                          mode_t mode) override;
  Status PWriteAll(int fd, std::span<const std::byte> buf,
                   uint64_t off) override;
  Status MkdirAt(int dirfd, const char* name, mode_t mode) override;
  Status RenameAt(int old_dirfd, const char* old_name, int new_dirfd,
                  const char* new_name) override;
  Status SetXattr(int fd, const char* name, const Xattr& x) override;
  Result<size_t> CopyFileRange(int in_fd, uint64_t in_off, int out_fd,
                               uint64_t out_off, size_t len) override;
  void ReadFiles(std::span<ReadFileOp> ops) override;
  void CreateFiles(std::span<WriteFileOp> ops) override;
  void LandFiles(std::span<LandOp> ops) override;
  // "stat" rules fail matching names of StatFiles (not StatAt).
  void StatFiles(std::span<StatOp> ops) override;

 private:
  // errno to inject for (op, name), or 0.
  int Check(const char* op, const char* name);

  std::vector<FaultRule> rules_;
  std::unique_ptr<std::atomic<int>[]> hits_;
};

}  // namespace ferry::io
