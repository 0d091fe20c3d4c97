// Entry: one scanned directory entry (source or destination side), compact
// enough for millions of them (~100 bytes plus the name's heap part).
//
// Thread safety: a value type.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ferry {

struct Entry {
  std::string name;
  uint64_t size = 0;  // st_size for files and symlinks
  uint64_t ino = 0;
  uint64_t dev = 0;
  uint64_t rdev = 0;  // devices only
  int64_t mtime_sec = 0;
  int64_t atime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint32_t atime_nsec = 0;
  uint32_t mode = 0;  // type and permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t nlink = 0;
  uint64_t blocks = 0;  // 512-byte blocks allocated: detects sparse files

  bool is_dir() const { return S_ISDIR(mode); }
  bool is_reg() const { return S_ISREG(mode); }
  bool is_lnk() const { return S_ISLNK(mode); }
  bool is_dev() const { return S_ISCHR(mode) || S_ISBLK(mode); }
  bool is_special() const { return S_ISFIFO(mode) || S_ISSOCK(mode); }
  uint32_t perms() const { return mode & 07777; }
  uint32_t type() const { return mode & S_IFMT; }
  bool same_mtime(const Entry& o) const {
    return mtime_sec == o.mtime_sec && mtime_nsec == o.mtime_nsec;
  }
  // A file with fewer allocated blocks than its size has holes.
  bool looks_sparse() const { return is_reg() && blocks * 512 < size; }

  static Entry FromStat(std::string name, const struct stat& st);
};

// rsync's itemize letter for the entry type: f d L D S.
char TypeLetter(uint32_t mode);

}  // namespace ferry
