#include "engine/probe/scratch_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <random>

namespace ferry::probe {

std::string ScratchName() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[40];
  std::snprintf(buf, sizeof buf, ".ferry-bench.%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Result<io::UniqueFd> OpenDirectory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("open directory", path, errno);
  return io::UniqueFd(fd);
}

std::string NearestExistingDirectory(const std::string& path) {
  std::string p = path;
  while (true) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    struct stat st;
    if (!p.empty() && ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return p;
    size_t s = p.rfind('/');
    if (s == std::string::npos) return ".";
    if (s == 0) return "/";
    p.resize(s);
  }
}

ScratchFile::~ScratchFile() { (void)io_.UnlinkAt(dirfd_, name_.c_str(), 0); }

ScratchTree::~ScratchTree() { (void)RemoveTree(io_, dirfd_, name_); }

Status RemoveTree(io::IoBackend& io, int dirfd, const std::string& name) {
  auto fd = io.OpenAt(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
  if (fd.ok()) {
    ASSIGN_OR_RETURN(std::vector<io::DirEntry> entries, io.ReadDir(fd->get()));
    for (const io::DirEntry& e : entries) {
      if (e.name == "." || e.name == "..") continue;
      bool is_dir = e.d_type == DT_DIR;
      if (e.d_type == DT_UNKNOWN) {
        auto st = io.StatAt(fd->get(), e.name.c_str(), AT_SYMLINK_NOFOLLOW);
        is_dir = st.ok() && S_ISDIR(st->st_mode);
      }
      if (is_dir) RETURN_IF_ERROR(RemoveTree(io, fd->get(), e.name));
      else RETURN_IF_ERROR(io.UnlinkAt(fd->get(), e.name.c_str(), 0));
    }
  }
  return io.UnlinkAt(dirfd, name.c_str(), AT_REMOVEDIR);
}

}  // namespace ferry::probe
