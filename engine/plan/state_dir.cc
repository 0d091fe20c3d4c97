#include "engine/plan/state_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace ferry::plan {
namespace {

std::string Dirname(const std::string& p) {
  size_t s = p.rfind('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : p.substr(0, s);
}

}  // namespace

Status MakeDirs(const std::string& dir) {
  std::string cur;
  size_t i = 0;
  while (i <= dir.size()) {
    size_t s = dir.find('/', i);
    if (s == std::string::npos) s = dir.size();
    cur = dir.substr(0, s);
    if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      return PosixError("mkdir", cur, errno);
    i = s + 1;
  }
  return Status::Ok();
}

std::string StateDirFor(const std::string& plan_path, const StepGraph& g) {
  if (g.state_dir.empty()) return plan_path + ".state";
  if (g.state_dir.front() == '/') return g.state_dir;
  return Dirname(plan_path) + "/" + g.state_dir;
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<StateLock>> LockStateDir(const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir));
  std::string path = dir + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return PosixError("open", path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    char buf[32] = {0};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    if (e == EWOULDBLOCK) {
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
      while (!pid.empty() && (pid.back() == '\n')) pid.pop_back();
      return Status(ErrorCode::kExists, "another ferry plan run (pid " + pid + ") holds " + path +
                                            "; wait for it to finish");
    }
    return PosixError("flock", path, e);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message above; the lock itself holds.
  }
  std::unique_ptr<StateLock> l(new StateLock());
  l->fd_ = fd;
  return l;
}

}  // namespace ferry::plan
