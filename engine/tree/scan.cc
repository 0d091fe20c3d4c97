#include "engine/tree/scan.h"

#include <algorithm>
#include <cerrno>

namespace ferry {

Entry Entry::FromStat(std::string name, const struct stat& st) {
  Entry e;
  e.name = std::move(name);
  e.mode = st.st_mode;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.nlink = static_cast<uint32_t>(st.st_nlink);
  e.size = static_cast<uint64_t>(st.st_size);
  e.ino = st.st_ino;
  e.dev = st.st_dev;
  e.rdev = st.st_rdev;
  e.mtime_sec = st.st_mtim.tv_sec;
  e.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  e.atime_sec = st.st_atim.tv_sec;
  e.atime_nsec = static_cast<uint32_t>(st.st_atim.tv_nsec);
  e.blocks = static_cast<uint64_t>(st.st_blocks);
  return e;
}

char TypeLetter(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'f';
    case S_IFDIR: return 'd';
    case S_IFLNK: return 'L';
    case S_IFCHR:
    case S_IFBLK: return 'D';
    default: return 'S';
  }
}

Status StatNames(io::IoBackend& io, int dirfd, std::string_view display,
                 std::vector<io::DirEntry>& names, size_t begin, size_t end,
                 std::vector<Entry>& out) {
  // One StatFiles batch per kStatBatch names: io_uring overlaps them, POSIX
  // runs them as a loop. Bounded so a huge range holds little scratch.
  constexpr size_t kStatBatch = 256;
  std::vector<io::StatOp> ops;
  ops.reserve(std::min(kStatBatch, end - begin));
  for (size_t b = begin; b < end; b += kStatBatch) {
    const size_t e = std::min(end, b + kStatBatch);
    ops.assign(e - b, io::StatOp{});
    for (size_t k = b; k < e; ++k) {
      io::StatOp& op = ops[k - b];
      op.dirfd = dirfd;
      op.name = names[k].name.c_str();
      op.flags = AT_SYMLINK_NOFOLLOW;
    }
    io.StatFiles(ops);
    for (size_t k = b; k < e; ++k) {
      const io::StatOp& op = ops[k - b];
      io::DirEntry& d = names[k];
      if (op.err != 0) {
        // Vanished since getdents (ENOENT, or ENOTDIR as StatAt's kNotFound).
        if (op.err == ENOENT || op.err == ENOTDIR) continue;
        std::string p(display);
        if (!p.empty()) p += '/';
        p += d.name;
        return PosixError("stat", p, op.err);
      }
      out[k] = Entry::FromStat(std::move(d.name), op.st);
    }
  }
  return Status::Ok();
}

void FinishListing(std::vector<Entry>& v) {
  std::erase_if(v, [](const Entry& e) { return e.name.empty(); });
  std::sort(v.begin(), v.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
}

Result<std::vector<Entry>> ListDir(io::IoBackend& io, int dirfd,
                                   std::string_view display) {
  auto names = io.ReadDir(dirfd);
  if (!names.ok())
    return PosixError("read directory", display.empty() ? "." : display,
                      names.status().sys_errno());
  std::vector<Entry> out(names->size());
  RETURN_IF_ERROR(StatNames(io, dirfd, display, *names, 0, names->size(), out));
  FinishListing(out);
  return out;
}

const Entry* FindEntry(const std::vector<Entry>& sorted, std::string_view name) {
  auto it = std::lower_bound(
      sorted.begin(), sorted.end(), name,
      [](const Entry& e, std::string_view n) { return e.name < n; });
  if (it == sorted.end() || it->name != name) return nullptr;
  return &*it;
}

}  // namespace ferry
