#include "engine/io/deferred_close.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace ferry::io {
namespace {

constexpr char kHelperEnv[] = "FERRY_DEFERRED_CLOSE_HELPER";
constexpr int kHelperFd = 3;  // the helper's end of the socket

// Closes every descriptor but `keep`.
void CloseAllBut(int keep) {
  const unsigned k = static_cast<unsigned>(keep);
  if ((k == 0 || ::close_range(0, k - 1, 0) == 0) && ::close_range(k + 1, UINT_MAX, 0) == 0) {
    return;
  }
  // A kernel without close_range (before 5.9).
  struct rlimit rl {};
  long max = 65536;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    max = static_cast<long>(rl.rlim_cur);
  }
  for (long fd = 0; fd < max; ++fd) {
    if (fd != keep) ::close(static_cast<int>(fd));
  }
}

// The helper: says its pid, holds what arrives until the end of the
// stream, then closes it in order and exits.
[[noreturn]] void HelperMain(int sock) {
  CloseAllBut(sock);
  (void)!::chdir("/");
  // Its name in ps -e, top and /proc/PID/comm (else "exe").
  (void)::prctl(PR_SET_NAME, "ferry-deferred", 0, 0, 0);
  // Room for kMaxHeld (a soft limit of 1024 would make the kernel close
  // the rest as they arrive: freed then, not lost).
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
  }
  const pid_t self = ::getpid();
  (void)!::send(sock, &self, sizeof(self), MSG_NOSIGNAL);
  static int held[DeferredClose::kMaxHeld];
  size_t n = 0;
  while (true) {
    char byte;
    struct iovec iov {&byte, 1};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t r = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // the end of the stream (or an error: the same)
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (n < DeferredClose::kMaxHeld) {
          held[n++] = fd;
        } else {
          ::close(fd);
        }
      }
    }
  }
  for (size_t i = 0; i < n; ++i) ::close(held[i]);
  ::_exit(0);
}

// Before main: a process started by Start() becomes the helper and never
// runs the program. (Only with the variable set and a socket at fd 3.)
__attribute__((constructor)) void RunHelperIfAsked() {
  const char* v = std::getenv(kHelperEnv);
  if (v == nullptr || std::strcmp(v, "1") != 0) return;
  struct stat st {};
  if (::fstat(kHelperFd, &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  const pid_t p = ::fork();
  if (p != 0) ::_exit(p > 0 ? 0 : 1);  // reaped by the starting process
  HelperMain(kHelperFd);
}

}  // namespace

Result<std::unique_ptr<DeferredClose>> DeferredClose::Start() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return PosixError("socketpair", "", errno);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, sv[1], kHelperFd);
  char arg0[] = "ferry-deferred-close";
  std::string env0 = std::string(kHelperEnv) + "=1";
  char* argv[] = {arg0, nullptr};
  // This process's environment too: the executable may need it to load
  // (LD_LIBRARY_PATH).
  std::vector<char*> envp;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, env0.c_str(), sizeof(kHelperEnv)) != 0) envp.push_back(*e);
  }
  envp.push_back(env0.data());
  envp.push_back(nullptr);
  pid_t spawned = -1;
  const int e = ::posix_spawn(&spawned, "/proc/self/exe", &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(sv[1]);
  if (e != 0) {
    ::close(sv[0]);
    return PosixError("posix_spawn", "/proc/self/exe", e);
  }
  return std::unique_ptr<DeferredClose>(new DeferredClose(sv[0], spawned));
}

DeferredClose::~DeferredClose() {
  ::close(sock_);
  int status = 0;
  while (::waitpid(spawned_, &status, 0) < 0 && errno == EINTR) {
  }
}

pid_t DeferredClose::pid() {
  if (helper_ != 0) return helper_;
  pid_t p = -1;
  ssize_t r;
  do {
    r = ::recv(sock_, &p, sizeof(p), 0);
  } while (r < 0 && errno == EINTR);
  helper_ = r == static_cast<ssize_t>(sizeof(p)) && p > 0 ? p : -1;
  return helper_;
}

bool DeferredClose::Hand(int fd) {
  if (fd < 0 || handed_.fetch_add(1) >= kMaxHeld) return false;
  char byte = 0;
  struct iovec iov {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  std::memset(control, 0, sizeof(control));
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t r;
  do {
    r = ::sendmsg(sock_, &msg, MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  return r == 1;
}

}  // namespace ferry::io
