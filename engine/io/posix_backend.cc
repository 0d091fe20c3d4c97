#include "engine/io/posix_backend.h"

#include <dirent.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace ferry::io {

namespace {

// Xattr syscalls have no *at() form before Linux 6.13; there, entries that
// cannot be opened (symlinks, devices, fifos, sockets) are reached through the
// held directory fd's /proc path, which stays inside that directory.
std::string ProcPath(int dirfd, const char* name) {
  std::string p = "/proc/self/fd/";
  p += std::to_string(dirfd);
  p += '/';
  p += name;
  return p;
}

bool openat2_missing = false;  // set once if the kernel lacks openat2

// The *xattrat() syscalls of Linux 6.13 act on dirfd/name directly: less than
// half the cost of resolving a /proc/self/fd path (1.7 vs 4.2 us per listxattr
// measured here), which is most of a no-change pass's per-file work. Their
// numbers are the same on every architecture (the unified syscall table);
// Debian 12's headers do not know them yet.
constexpr long kSetxattrat = 463;
constexpr long kGetxattrat = 464;
constexpr long kListxattrat = 465;
constexpr long kRemovexattrat = 466;
struct XattrArgs {  // struct xattr_args, XATTR_ARGS_SIZE_VER0
  uint64_t value;
  uint32_t size;
  uint32_t flags;
};
std::atomic<bool> xattrat_missing{false};  // set once on ENOSYS

// Each returns what the l*xattr() call on the /proc path would, falling back
// to it when the kernel has no *xattrat().
ssize_t ListXattrAt(int dirfd, const char* name, char* buf, size_t n) {
  if (!xattrat_missing.load(std::memory_order_relaxed)) {
    long r = ::syscall(kListxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, buf, n);
    if (r >= 0 || errno != ENOSYS) return r;
    xattrat_missing.store(true, std::memory_order_relaxed);
  }
  return ::llistxattr(ProcPath(dirfd, name).c_str(), buf, n);
}
ssize_t GetXattrAt(int dirfd, const char* name, const char* attr, void* buf, size_t n) {
  if (!xattrat_missing.load(std::memory_order_relaxed)) {
    XattrArgs a{reinterpret_cast<uintptr_t>(buf), static_cast<uint32_t>(n), 0};
    long r = ::syscall(kGetxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr, &a, sizeof a);
    if (r >= 0 || errno != ENOSYS) return r;
    xattrat_missing.store(true, std::memory_order_relaxed);
  }
  return ::lgetxattr(ProcPath(dirfd, name).c_str(), attr, buf, n);
}
int SetXattrAt(int dirfd, const char* name, const char* attr, const void* value, size_t n) {
  if (!xattrat_missing.load(std::memory_order_relaxed)) {
    XattrArgs a{reinterpret_cast<uintptr_t>(value), static_cast<uint32_t>(n), 0};
    long r = ::syscall(kSetxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr, &a, sizeof a);
    if (r >= 0 || errno != ENOSYS) return static_cast<int>(r);
    xattrat_missing.store(true, std::memory_order_relaxed);
  }
  return ::lsetxattr(ProcPath(dirfd, name).c_str(), attr, value, n, 0);
}
int RemoveXattrAt(int dirfd, const char* name, const char* attr) {
  if (!xattrat_missing.load(std::memory_order_relaxed)) {
    long r = ::syscall(kRemovexattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr);
    if (r >= 0 || errno != ENOSYS) return static_cast<int>(r);
    xattrat_missing.store(true, std::memory_order_relaxed);
  }
  return ::lremovexattr(ProcPath(dirfd, name).c_str(), attr);
}

}  // namespace

void SetXattrAtForTesting(bool use_xattrat) {
  xattrat_missing.store(!use_xattrat, std::memory_order_relaxed);
}

Result<UniqueFd> PosixBackend::OpenAt(int dirfd, const char* name, int flags,
                                      mode_t mode) {
  int fd = ::openat(dirfd, name, flags | O_CLOEXEC, mode);
  if (fd < 0) return PosixError("open", name, errno);
  return UniqueFd(fd);
}

Result<UniqueFd> PosixBackend::OpenBeneath(int root_fd,
                                           std::string_view relpath,
                                           int flags, mode_t mode) {
  std::string path(relpath.empty() ? "." : relpath);
  if (!openat2_missing) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != ENOSYS) return PosixError("open", path, errno);
    openat2_missing = true;
  }
  // Fallback: walk one component at a time, refusing symlinks and "..".
  UniqueFd cur;
  int at = root_fd;
  size_t pos = 0;
  std::string comp;
  while (true) {
    size_t slash = path.find('/', pos);
    comp = path.substr(pos, slash == std::string::npos ? std::string::npos
                                                       : slash - pos);
    bool last = slash == std::string::npos;
    if (comp == "..") return PosixError("open", path, EXDEV);
    int f = last ? flags : (O_DIRECTORY | O_RDONLY);
    int fd = ::openat(at, comp.empty() ? "." : comp.c_str(),
                      f | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return PosixError("open", path, errno == ELOOP ? ELOOP : errno);
    cur.reset(fd);
    at = fd;
    if (last) break;
    pos = slash + 1;
  }
  return cur;
}

Result<std::vector<DirEntry>> PosixBackend::ReadDir(int dirfd) {
  std::vector<DirEntry> out;
  alignas(8) char buf[32768];
  while (true) {
    long n = ::syscall(SYS_getdents64, dirfd, buf, sizeof buf);
    if (n < 0) return PosixError("getdents", "", errno);
    if (n == 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      off += d->d_reclen;
      const char* nm = d->d_name;
      if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0)))
        continue;
      out.push_back(DirEntry{nm, d->d_type});
    }
  }
  return out;
}

Result<struct stat> PosixBackend::StatAt(int dirfd, const char* name,
                                         int flags) {
  struct stat st;
  if (::fstatat(dirfd, name, &st, flags) != 0)
    return PosixError("stat", name, errno);
  return st;
}

Result<struct stat> PosixBackend::FStat(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return PosixError("fstat", "", errno);
  return st;
}

Result<std::string> PosixBackend::ReadLinkAt(int dirfd, const char* name) {
  std::string buf(256, '\0');
  while (true) {
    ssize_t n = ::readlinkat(dirfd, name, buf.data(), buf.size());
    if (n < 0) return PosixError("readlink", name, errno);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

Result<size_t> PosixBackend::PRead(int fd, std::span<std::byte> buf,
                                   uint64_t off) {
  while (true) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(off));
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return PosixError("read", "", errno);
  }
}

Status PosixBackend::PWriteAll(int fd, std::span<const std::byte> buf,
                               uint64_t off) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pwrite(fd, buf.data() + done, buf.size() - done,
                         static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("write", "", errno);
    }
    if (n == 0) return PosixError("write", "", EIO);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<size_t> PosixBackend::CopyFileRange(int in_fd, uint64_t in_off,
                                           int out_fd, uint64_t out_off,
                                           size_t len) {
  loff_t i = static_cast<loff_t>(in_off), o = static_cast<loff_t>(out_off);
  while (true) {
    ssize_t n = ::copy_file_range(in_fd, &i, out_fd, &o, len, 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return PosixError("copy_file_range", "", errno);
  }
}

Status PosixBackend::Clone(int out_fd, int in_fd) {
  if (::ioctl(out_fd, FICLONE, in_fd) != 0) {
    int e = errno;
    Status s = PosixError("clone", "", e);
    if (e == EOPNOTSUPP || e == EXDEV || e == EINVAL || e == ENOTTY)
      return Status(ErrorCode::kUnsupported, s.message(), e);
    return s;
  }
  return Status::Ok();
}

Result<uint64_t> PosixBackend::SeekData(int fd, uint64_t off) {
  off_t r = ::lseek(fd, static_cast<off_t>(off), SEEK_DATA);
  if (r < 0) {
    if (errno == ENXIO) return Status(ErrorCode::kNotFound, "no more data", ENXIO);
    return PosixError("lseek", "", errno);
  }
  return static_cast<uint64_t>(r);
}

Result<uint64_t> PosixBackend::SeekHole(int fd, uint64_t off) {
  off_t r = ::lseek(fd, static_cast<off_t>(off), SEEK_HOLE);
  if (r < 0) return PosixError("lseek", "", errno);
  return static_cast<uint64_t>(r);
}

Status PosixBackend::FTruncate(int fd, uint64_t len) {
  if (::ftruncate(fd, static_cast<off_t>(len)) != 0)
    return PosixError("truncate", "", errno);
  return Status::Ok();
}

Status PosixBackend::FSync(int fd) {
  if (::fsync(fd) != 0) return PosixError("fsync", "", errno);
  return Status::Ok();
}

Status PosixBackend::MkdirAt(int dirfd, const char* name, mode_t mode) {
  if (::mkdirat(dirfd, name, mode) != 0) return PosixError("mkdir", name, errno);
  return Status::Ok();
}

Status PosixBackend::SymlinkAt(const char* target, int dirfd,
                               const char* name) {
  if (::symlinkat(target, dirfd, name) != 0)
    return PosixError("symlink", name, errno);
  return Status::Ok();
}

Status PosixBackend::LinkAt(int old_dirfd, const char* old_name, int new_dirfd,
                            const char* new_name) {
  if (::linkat(old_dirfd, old_name, new_dirfd, new_name, 0) != 0)
    return PosixError("link", new_name, errno);
  return Status::Ok();
}

Status PosixBackend::MknodAt(int dirfd, const char* name, mode_t mode,
                             dev_t dev) {
  if (::mknodat(dirfd, name, mode, dev) != 0)
    return PosixError("mknod", name, errno);
  return Status::Ok();
}

Status PosixBackend::RenameAt(int old_dirfd, const char* old_name,
                              int new_dirfd, const char* new_name) {
  if (::renameat(old_dirfd, old_name, new_dirfd, new_name) != 0)
    return PosixError("rename", new_name, errno);
  return Status::Ok();
}

Status PosixBackend::UnlinkAt(int dirfd, const char* name, int flags) {
  if (::unlinkat(dirfd, name, flags) != 0)
    return PosixError(flags & AT_REMOVEDIR ? "rmdir" : "unlink", name, errno);
  return Status::Ok();
}

Status PosixBackend::FChown(int fd, uid_t uid, gid_t gid) {
  if (::fchown(fd, uid, gid) != 0) return PosixError("chown", "", errno);
  return Status::Ok();
}

Status PosixBackend::FChmod(int fd, mode_t mode) {
  if (::fchmod(fd, mode) != 0) return PosixError("chmod", "", errno);
  return Status::Ok();
}

Status PosixBackend::FUtimens(int fd, const struct timespec times[2]) {
  if (::futimens(fd, times) != 0) return PosixError("utimens", "", errno);
  return Status::Ok();
}

Status PosixBackend::ChownAt(int dirfd, const char* name, uid_t uid,
                             gid_t gid) {
  if (::fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
    return PosixError("chown", name, errno);
  return Status::Ok();
}

Status PosixBackend::ChmodAt(int dirfd, const char* name, mode_t mode) {
  // glibc implements AT_SYMLINK_NOFOLLOW through an O_PATH fd, so a name
  // swapped for a symlink is refused (EOPNOTSUPP) instead of followed.
  if (::fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW) != 0)
    return PosixError("chmod", name, errno);
  return Status::Ok();
}

Status PosixBackend::UtimensAt(int dirfd, const char* name,
                               const struct timespec times[2]) {
  if (::utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW) != 0)
    return PosixError("utimens", name, errno);
  return Status::Ok();
}

Result<std::vector<Xattr>> PosixBackend::ReadXattrs(int fd, const char* name) {
  auto list = [&](char* buf, size_t n) {
    return name ? ListXattrAt(fd, name, buf, n) : ::flistxattr(fd, buf, n);
  };
  auto get = [&](const char* attr, void* buf, size_t n) {
    return name ? GetXattrAt(fd, name, attr, buf, n)
                : ::fgetxattr(fd, attr, buf, n);
  };
  std::vector<Xattr> out;
  char small[1024];
  ssize_t n = list(small, sizeof small);
  std::string names;
  if (n < 0 && errno == ERANGE) {
    ssize_t need = list(nullptr, 0);
    if (need < 0) return PosixError("listxattr", name ? name : "", errno);
    names.resize(static_cast<size_t>(need));
    n = list(names.data(), names.size());
    if (n >= 0) names.resize(static_cast<size_t>(n));
  } else if (n > 0) {
    names.assign(small, static_cast<size_t>(n));
  }
  if (n < 0) {
    if (errno == ENOTSUP) return out;  // file system without xattrs
    return PosixError("listxattr", name ? name : "", errno);
  }
  for (size_t p = 0; p < names.size();) {
    std::string attr(names.c_str() + p);
    p += attr.size() + 1;
    if (attr.empty()) continue;
    std::string value;
    ssize_t vn = get(attr.c_str(), nullptr, 0);
    if (vn < 0) {
      if (errno == ENODATA) continue;  // removed between list and get
      return PosixError("getxattr " + attr, name ? name : "", errno);
    }
    value.resize(static_cast<size_t>(vn));
    vn = get(attr.c_str(), value.data(), value.size());
    if (vn < 0) return PosixError("getxattr " + attr, name ? name : "", errno);
    value.resize(static_cast<size_t>(vn));
    out.push_back(Xattr{std::move(attr), std::move(value)});
  }
  std::sort(out.begin(), out.end(),
            [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return out;
}

Status PosixBackend::SetXattr(int fd, const char* name, const Xattr& x) {
  int r = name ? SetXattrAt(fd, name, x.name.c_str(), x.value.data(), x.value.size())
               : ::fsetxattr(fd, x.name.c_str(), x.value.data(),
                             x.value.size(), 0);
  if (r != 0) return PosixError("setxattr " + x.name, name ? name : "", errno);
  return Status::Ok();
}

Status PosixBackend::RemoveXattr(int fd, const char* name,
                                 const std::string& attr) {
  int r = name ? RemoveXattrAt(fd, name, attr.c_str())
               : ::fremovexattr(fd, attr.c_str());
  if (r != 0 && errno != ENODATA)
    return PosixError("removexattr " + attr, name ? name : "", errno);
  return Status::Ok();
}

void PosixBackend::ReadFiles(std::span<ReadFileOp> ops) {
  for (ReadFileOp& op : ops) {
    int fd = ::openat(op.dirfd, op.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      op.err = errno;
      op.failed_op = "open";
      continue;
    }
    size_t got = 0;
    while (got < op.buf_len) {
      ssize_t n = ::read(fd, op.buf + got, op.buf_len - got);
      if (n < 0) {
        if (errno == EINTR) continue;
        op.err = errno;
        op.failed_op = "read";
        break;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    op.bytes_read = got;
    if (op.err == 0 && ::fstat(fd, &op.st_after) != 0) {
      op.err = errno;
      op.failed_op = "fstat";
    }
    ::close(fd);
  }
}

namespace {
std::atomic<bool> g_link_by_empty_path{true};
}  // namespace

bool LinkUnnamedByEmptyPath() {
  return g_link_by_empty_path.load(std::memory_order_relaxed);
}
void SetLinkUnnamedByEmptyPath(bool on) {
  g_link_by_empty_path.store(on, std::memory_order_relaxed);
}

int LinkUnnamed(int fd, int dirfd, const char* name) {
  if (LinkUnnamedByEmptyPath()) {
    if (::linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0) return 0;
    // Without CAP_DAC_READ_SEARCH (kernels before 6.10 ask for it even for
    // our own O_TMPFILE) the kernel answers ENOENT; anything else is real.
    if (errno != ENOENT) return errno;
    SetLinkUnnamedByEmptyPath(false);
  }
  char proc[32];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  return ::linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
}

void PosixBackend::CreateFiles(std::span<WriteFileOp> ops) {
  for (WriteFileOp& op : ops) {
    int fd = op.name == nullptr
                 ? ::openat(op.dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, op.mode)
                 : ::openat(op.dirfd, op.name,
                            O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                            op.mode);
    if (fd < 0) {
      op.err = errno;
      op.failed_op = "create";
      continue;
    }
    Status s = PWriteAll(fd, {op.data, op.len}, 0);
    if (!s.ok()) {
      op.err = s.sys_errno();
      op.failed_op = "write";
      ::close(fd);
      continue;
    }
    op.fd = fd;
  }
}

void PosixBackend::LandFiles(std::span<LandOp> ops) {
  for (LandOp& op : ops) {
    if (op.fsync && ::fsync(op.fd) != 0) {
      op.err = errno;
      op.failed_op = "fsync";
    }
    if (op.tmp_name == nullptr) {  // unnamed: link first, the fd is needed
      bool linked = false;
      if (op.err == 0) {
        op.err = LinkUnnamed(op.fd, op.dirfd, op.final_name);
        if (op.err != 0) op.failed_op = "link";
        linked = op.err == 0;
      }
      if (::close(op.fd) != 0 && op.err == 0) {
        op.err = errno;
        op.failed_op = "close";
      }
      op.fd = -1;
      // close() can report a deferred write error (NFS, quota): the name we
      // just made must not keep data that may not have been written.
      if (linked && op.err != 0) (void)::unlinkat(op.dirfd, op.final_name, 0);
      continue;
    }
    // close() can report a deferred write error (NFS, quota); never land a
    // file whose data may not have been written.
    if (::close(op.fd) != 0 && op.err == 0) {
      op.err = errno;
      op.failed_op = "close";
    }
    op.fd = -1;
    if (op.err != 0) continue;
    if (::renameat(op.dirfd, op.tmp_name, op.dirfd, op.final_name) != 0) {
      op.err = errno;
      op.failed_op = "rename";
    }
  }
}

void PosixBackend::StatFiles(std::span<StatOp> ops) {
  for (StatOp& op : ops) {
    op.err = ::fstatat(op.dirfd, op.name, &op.st, op.flags) != 0 ? errno : 0;
  }
}

}  // namespace ferry::io
