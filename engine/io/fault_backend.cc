#include "engine/io/fault_backend.h"

#include <cstring>

namespace ferry::io {

FaultBackend::FaultBackend(std::vector<FaultRule> rules)
    : rules_(std::move(rules)),
      hits_(new std::atomic<int>[rules_.size() ? rules_.size() : 1]) {
  for (size_t i = 0; i < rules_.size(); ++i) hits_[i] = 0;
}

int FaultBackend::Check(const char* op, const char* name) {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const FaultRule& r = rules_[i];
    if (r.op != op) continue;
    if (!r.name_contains.empty() &&
        (name == nullptr || std::strstr(name, r.name_contains.c_str()) == nullptr))
      continue;
    if (hits_[i].fetch_add(1) >= r.after) return r.err;
  }
  return 0;
}

Result<UniqueFd> FaultBackend::OpenAt(int dirfd, const char* name, int flags,
                                      mode_t mode) {
  if (int e = Check(flags & O_CREAT ? "create" : "open", name))
    return PosixError("open", name, e);
  return PosixBackend::OpenAt(dirfd, name, flags, mode);
}

Status FaultBackend::PWriteAll(int fd, std::span<const std::byte> buf,
                               uint64_t off) {
  if (int e = Check("write", nullptr)) {
    // A short write first, as a filling disk does, then the error.
    Status s = PosixBackend::PWriteAll(fd, buf.first(buf.size() / 2), off);
    (void)s;
    return PosixError("write", "", e);
  }
  return PosixBackend::PWriteAll(fd, buf, off);
}

Status FaultBackend::MkdirAt(int dirfd, const char* name, mode_t mode) {
  if (int e = Check("mkdir", name)) return PosixError("mkdir", name, e);
  return PosixBackend::MkdirAt(dirfd, name, mode);
}

Status FaultBackend::RenameAt(int old_dirfd, const char* old_name,
                              int new_dirfd, const char* new_name) {
  if (int e = Check("rename", new_name)) return PosixError("rename", new_name, e);
  return PosixBackend::RenameAt(old_dirfd, old_name, new_dirfd, new_name);
}

Status FaultBackend::SetXattr(int fd, const char* name, const Xattr& x) {
  if (int e = Check("setxattr", name)) return PosixError("setxattr", name ? name : "", e);
  return PosixBackend::SetXattr(fd, name, x);
}

Result<size_t> FaultBackend::CopyFileRange(int in_fd, uint64_t in_off,
                                           int out_fd, uint64_t out_off,
                                           size_t len) {
  if (int e = Check("write", nullptr)) return PosixError("copy_file_range", "", e);
  return PosixBackend::CopyFileRange(in_fd, in_off, out_fd, out_off, len);
}

void FaultBackend::ReadFiles(std::span<ReadFileOp> ops) {
  PosixBackend::ReadFiles(ops);
  for (ReadFileOp& op : ops) {
    if (op.err) continue;
    if (int e = Check("read", op.name)) {
      op.err = e;
      op.failed_op = "read";
    }
  }
}

void FaultBackend::CreateFiles(std::span<WriteFileOp> ops) {
  PosixBackend::CreateFiles(ops);
  for (WriteFileOp& op : ops) {
    if (op.err) continue;
    const char* name = op.name != nullptr ? op.name : op.final_name;
    int e = Check("write", name);
    if (e == 0) e = Check("create", name);
    if (e == 0 && op.name == nullptr) e = Check("create_unnamed", name);
    if (e) {
      // The temporary exists and is half written, as after a real ENOSPC.
      if (::ftruncate(op.fd, static_cast<off_t>(op.len / 2)) != 0) {}
      ::close(op.fd);
      op.fd = -1;
      op.err = e;
      op.failed_op = "write";
    }
  }
}

void FaultBackend::LandFiles(std::span<LandOp> ops) {
  for (LandOp& op : ops) {
    // "rename" rules fail a landing either way: rename of a named
    // temporary, or link of an unnamed one.
    if (int e = Check("rename", op.final_name)) {
      ::close(op.fd);
      op.fd = -1;
      op.err = e;
      op.failed_op = op.tmp_name != nullptr ? "rename" : "link";
      continue;
    }
    PosixBackend::LandFiles({&op, 1});
  }
}

void FaultBackend::StatFiles(std::span<StatOp> ops) {
  PosixBackend::StatFiles(ops);
  for (StatOp& op : ops) {
    if (op.err) continue;
    if (int e = Check("stat", op.name)) op.err = e;
  }
}

}  // namespace ferry::io
