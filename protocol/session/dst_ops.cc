#include "protocol/session/dst_ops.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "engine/tree/scan.h"
#include "protocol/session/common.h"

namespace ferry::protocol {

namespace {

std::pair<std::string, std::string> Split(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

Status MakeDirs(const std::string& path) {
  std::string cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    cur = path.substr(0, slash);
    pos = slash + 1;
    if (cur.empty() || cur == "." || cur == "..") continue;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      return PosixError("mkdir", cur, errno);
    }
  }
  return Status::Ok();
}

Result<io::UniqueFd> MakeDirsBeneath(io::IoBackend& io, int base_fd, const std::string& rel) {
  ASSIGN_OR_RETURN(io::UniqueFd cur, io.OpenBeneath(base_fd, "", O_RDONLY | O_DIRECTORY, 0));
  size_t pos = 0;
  while (pos < rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string::npos) slash = rel.size();
    const std::string comp = rel.substr(pos, slash - pos);
    const std::string so_far = rel.substr(0, slash);
    pos = slash + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") return PosixError("open", so_far, EXDEV);
    if (Status s = io.MkdirAt(cur.get(), comp.c_str(), 0755);
        !s.ok() && s.sys_errno() != EEXIST) {
      return PosixError("mkdir", so_far, s.sys_errno());
    }
    auto next = io.OpenAt(cur.get(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    if (!next.ok()) return PosixError("open", so_far, next.status().sys_errno());
    cur = std::move(*next);
  }
  return cur;
}

Status RemoveEntry(io::IoBackend& io, int dirfd, const Entry& e) {
  if (!e.is_dir()) return io.UnlinkAt(dirfd, e.name.c_str(), 0);
  ASSIGN_OR_RETURN(io::UniqueFd sub,
                   io.OpenAt(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0));
  ASSIGN_OR_RETURN(std::vector<Entry> listing, ListDir(io, sub.get(), e.name));
  for (const Entry& c : listing) RETURN_IF_ERROR(RemoveEntry(io, sub.get(), c));
  return io.UnlinkAt(dirfd, e.name.c_str(), AT_REMOVEDIR);
}

Status LinkInto(io::IoBackend& io, int root_fd, const std::string& leader,
                const std::string& path, const std::string& suffix) {
  auto [lparent, lname] = Split(leader);
  auto [parent, name] = Split(path);
  ASSIGN_OR_RETURN(io::UniqueFd ld, io.OpenBeneath(root_fd, lparent, O_RDONLY | O_DIRECTORY, 0));
  ASSIGN_OR_RETURN(io::UniqueFd d, io.OpenBeneath(root_fd, parent, O_RDONLY | O_DIRECTORY, 0));
  ASSIGN_OR_RETURN(struct stat lst, io.StatAt(ld.get(), lname.c_str(), AT_SYMLINK_NOFOLLOW));
  auto have = io.StatAt(d.get(), name.c_str(), AT_SYMLINK_NOFOLLOW);
  if (have.ok() && have->st_ino == lst.st_ino && have->st_dev == lst.st_dev) {
    return Status(ErrorCode::kExists, path + " is already linked");
  }
  if (have.ok() && S_ISDIR(have->st_mode)) {
    RETURN_IF_ERROR(RemoveEntry(io, d.get(), Entry::FromStat(name, *have)));
  }
  const std::string tmp = TempName(name, suffix);
  RETURN_IF_ERROR(io.LinkAt(ld.get(), lname.c_str(), d.get(), tmp.c_str()));
  Status s = io.RenameAt(d.get(), tmp.c_str(), d.get(), name.c_str());
  if (!s.ok()) (void)io.UnlinkAt(d.get(), tmp.c_str(), 0);
  return s;
}

}  // namespace ferry::protocol
