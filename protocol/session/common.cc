#include "protocol/session/common.h"

#include <bit>

#include "engine/delta/block_size.h"
#include "engine/io/posix_backend.h"
#include "engine/io/scratch.h"

#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <random>

namespace ferry::protocol {

MetaPolicy PolicyFor(const SessionOptions& o) {
  MetaPolicy p;
  p.perms = (o.preserve & kPreservePerms) != 0;
  p.times = (o.preserve & kPreserveTimes) != 0;
  p.owner = (o.preserve & kPreserveOwner) != 0;
  p.group = (o.preserve & kPreserveGroup) != 0;
  p.atimes = (o.preserve & kPreserveAtimes) != 0;
  p.acls = o.acls;
  p.xattrs = o.xattrs;
  p.am_root = ::geteuid() == 0;
  return p;
}

bool Wanted(const SessionOptions& o, const Entry& e) {
  if (e.is_dir() || e.is_reg()) return true;
  if (e.is_lnk()) return (o.preserve & kPreserveLinks) != 0;
  if (e.is_dev()) return (o.preserve & kPreserveDevices) != 0;
  if (e.is_special()) return (o.preserve & kPreserveSpecials) != 0;
  return false;
}

namespace {

FileKind KindOf(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR: return FileKind::kDirectory;
    case S_IFLNK: return FileKind::kSymlink;
    case S_IFCHR: return FileKind::kCharDevice;
    case S_IFBLK: return FileKind::kBlockDevice;
    case S_IFIFO: return FileKind::kFifo;
    case S_IFSOCK: return FileKind::kSocket;
    default: return FileKind::kRegular;
  }
}

uint32_t ModeOf(FileKind k) {
  switch (k) {
    case FileKind::kDirectory: return S_IFDIR;
    case FileKind::kSymlink: return S_IFLNK;
    case FileKind::kCharDevice: return S_IFCHR;
    case FileKind::kBlockDevice: return S_IFBLK;
    case FileKind::kFifo: return S_IFIFO;
    case FileKind::kSocket: return S_IFSOCK;
    case FileKind::kRegular: break;
  }
  return S_IFREG;
}

}  // namespace

FileEntry ToWire(const Entry& e, const std::string& path,
                 const std::vector<io::Xattr>& xattrs, const SessionOptions& o) {
  FileEntry w;
  w.path = path;
  w.kind = KindOf(e.mode);
  w.perms = e.perms();
  w.uid = e.uid;
  w.gid = e.gid;
  w.size = e.is_reg() ? e.size : 0;
  w.mtime_sec = e.mtime_sec;
  w.mtime_nsec = e.mtime_nsec;
  if ((o.preserve & kPreserveAtimes) != 0) {
    w.has_atime = true;
    w.atime_sec = e.atime_sec;
    w.atime_nsec = e.atime_nsec;
  }
  if (e.is_dev()) w.rdev = e.rdev;
  for (const io::Xattr& x : xattrs) w.xattrs.push_back(Xattr{x.name, x.value});
  return w;
}

Entry FromWire(const FileEntry& w, uint32_t uid, uint32_t gid) {
  Entry e;
  const size_t slash = w.path.rfind('/');
  e.name = slash == std::string::npos ? w.path : w.path.substr(slash + 1);
  e.mode = ModeOf(w.kind) | w.perms;
  e.uid = uid;
  e.gid = gid;
  e.size = w.kind == FileKind::kSymlink ? w.symlink_target.size() : w.size;
  e.mtime_sec = w.mtime_sec;
  e.mtime_nsec = w.mtime_nsec;
  e.atime_sec = w.atime_sec;
  e.atime_nsec = w.atime_nsec;
  e.rdev = w.rdev;
  e.nlink = 1;
  return e;
}

std::vector<io::Xattr> XattrsFromWire(const FileEntry& w, const MetaPolicy& p) {
  std::vector<io::Xattr> out;
  for (const Xattr& x : w.xattrs)
    if (KeepXattr(p, x.name)) out.push_back(io::Xattr{x.name, x.value});
  std::sort(out.begin(), out.end(),
            [](const io::Xattr& a, const io::Xattr& b) { return a.name < b.name; });
  return out;
}

WireError ToWireError(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound: return WireError::kNotFound;
    case ErrorCode::kPermission: return WireError::kPermission;
    case ErrorCode::kNoSpace: return WireError::kNoSpace;
    case ErrorCode::kIo: return WireError::kIo;
    case ErrorCode::kChanged: return WireError::kChanged;
    case ErrorCode::kCorrupt: return WireError::kCorrupt;
    default: return WireError::kOther;
  }
}

ErrorCode FromWireError(WireError code) {
  switch (code) {
    case WireError::kNotFound: return ErrorCode::kNotFound;
    case WireError::kPermission: return ErrorCode::kPermission;
    case WireError::kNoSpace: return ErrorCode::kNoSpace;
    case WireError::kIo: return ErrorCode::kIo;
    case WireError::kChanged: return ErrorCode::kChanged;
    case WireError::kCorrupt: return ErrorCode::kCorrupt;
    case WireError::kProtocol: return ErrorCode::kCorrupt;
    case WireError::kRefused: return ErrorCode::kPermission;
    case WireError::kOther: break;
  }
  return ErrorCode::kIo;
}

Error MakeError(std::optional<uint32_t> index, const std::string& path, const Status& s) {
  Error e;
  e.file_index = index;
  e.code = ToWireError(s.code());
  e.path = path.size() < kPathMax ? path : path.substr(0, kPathMax - 1);
  e.message = s.message().substr(0, kErrorMessageMax);
  return e;
}

Error ProtocolError(const Status& s) {
  Error e;
  e.code = WireError::kProtocol;
  e.message = s.message().substr(0, kErrorMessageMax);
  return e;
}

Status StatusFromWire(const Error& e) {
  std::string msg = "remote: " + e.message;
  return Status(FromWireError(e.code), msg);
}

namespace {
constexpr char kTmpPrefix[] = ".~ferry.";
constexpr size_t kTmpPrefixLen = sizeof(kTmpPrefix) - 1;
constexpr size_t kSuffixLen = 8;
}  // namespace

std::string TempName(const std::string& name, const std::string& suffix) {
  if (name.size() <= 200) return kTmpPrefix + name + "." + suffix;
  char h[20];
  std::snprintf(h, sizeof h, "~%016llx",
                static_cast<unsigned long long>(XXH3_64bits(name.data(), name.size())));
  return kTmpPrefix + name.substr(0, 180) + h + "." + suffix;
}

bool IsTempName(const std::string& name) {
  if (name.size() < kTmpPrefixLen + 2 + kSuffixLen) return false;
  if (name.compare(0, kTmpPrefixLen, kTmpPrefix) != 0) return false;
  const size_t dot = name.size() - kSuffixLen - 1;
  if (name[dot] != '.') return false;
  for (size_t i = dot + 1; i < name.size(); ++i) {
    const char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::unique_ptr<io::IoBackend> SessionBackend(io::BackendKind kind) {
  if (kind == io::BackendKind::kUring) {
    auto r = io::MakeBackend(kind);
    if (r.ok()) return std::move(r).value();
  }
  return std::make_unique<io::PosixBackend>();
}

std::string RandomSuffix() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
  return buf;
}

uint32_t WireStrongLen(uint64_t file_size, uint32_t block_size) {
  constexpr int kBias = 16;     // rsync uses 10
  constexpr int kWeakBits = 32;  // delta::WeakSum
  const int bits = kBias + 2 * (std::bit_width(file_size) - 1) -
                   (std::bit_width(std::max<uint32_t>(block_size, 1)) - 1);
  const int bytes = (bits - kWeakBits + 7) / 8;
  return static_cast<uint32_t>(std::clamp(bytes, 2, static_cast<int>(kStrongLenMax)));
}

uint32_t WireBlockSize(uint64_t file_size) {
  constexpr uint64_t kSmall = 700;
  if (file_size <= kSmall * kSmall) return static_cast<uint32_t>(kSmall);
  return delta::ChooseBlockSize(file_size);
}

bool HashFdPrefix(io::IoBackend& io, int fd, uint64_t len, Hasher& h) {
  const std::span<std::byte> buf = io::ThreadScratch();
  uint64_t off = 0;
  while (off < len) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(len - off, buf.size()));
    auto n = io.PRead(fd, buf.first(want), off);
    if (!n.ok() || *n == 0) return false;
    h.Update(buf.first(*n));
    off += *n;
  }
  return true;
}

}  // namespace ferry::protocol
