#include "engine/plan/manifest.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>

#include "engine/io/io_backend.h"
#include "engine/io/posix_backend.h"

namespace ferry::plan {
namespace {

constexpr char kTmpPrefix[] = ".~ferry.";

}  // namespace

Result<std::vector<ManifestEntry>> ScanManifest(const std::string& root,
                                                const FilterList* filter) {
  io::PosixBackend io;
  ASSIGN_OR_RETURN(io::UniqueFd top,
                   io.OpenAt(AT_FDCWD, root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0));
  std::vector<ManifestEntry> out;
  std::function<Status(int, const std::string&)> walk = [&](int dirfd,
                                                            const std::string& rel) -> Status {
    ASSIGN_OR_RETURN(std::vector<io::DirEntry> names, io.ReadDir(dirfd));
    for (const io::DirEntry& d : names) {
      if (d.name.starts_with(kTmpPrefix)) continue;
      std::string path = rel.empty() ? d.name : rel + "/" + d.name;
      auto st = io.StatAt(dirfd, d.name.c_str(), AT_SYMLINK_NOFOLLOW);
      if (!st.ok()) {
        if (st.status().code() == ErrorCode::kNotFound) continue;  // vanished
        return st.status();
      }
      bool is_dir = S_ISDIR(st->st_mode);
      if (filter && filter->Excluded(path, is_dir)) continue;
      out.push_back(ManifestEntry{path, static_cast<uint32_t>(st->st_mode),
                                  static_cast<uint64_t>(st->st_size),
                                  st->st_mtim.tv_sec * 1'000'000'000LL + st->st_mtim.tv_nsec});
      if (is_dir) {
        ASSIGN_OR_RETURN(io::UniqueFd sub,
                         io.OpenAt(dirfd, d.name.c_str(),
                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0));
        RETURN_IF_ERROR(walk(sub.get(), path));
      }
    }
    return Status::Ok();
  };
  Status s = walk(top.get(), "");
  if (!s.ok()) return s.WithContext("scan " + root);
  std::sort(out.begin(), out.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
  return out;
}

std::vector<ManifestChange> DiffManifests(const std::vector<ManifestEntry>& before,
                                          const std::vector<ManifestEntry>& now) {
  std::vector<ManifestChange> out;
  size_t i = 0, j = 0;
  while (i < before.size() || j < now.size()) {
    if (j == now.size() || (i < before.size() && before[i].path < now[j].path)) {
      out.push_back({'-', before[i++].path});
    } else if (i == before.size() || now[j].path < before[i].path) {
      out.push_back({'+', now[j++].path});
    } else {
      const ManifestEntry& a = before[i++];
      const ManifestEntry& b = now[j++];
      bool dir = S_ISDIR(a.mode) && S_ISDIR(b.mode);
      if (a.mode != b.mode || (!dir && (a.size != b.size || a.mtime_ns != b.mtime_ns)))
        out.push_back({'M', b.path});
    }
  }
  return out;
}

}  // namespace ferry::plan
