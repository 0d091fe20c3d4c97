#include "engine/base/fd_limit.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace ferry {
namespace {

bool raised = false;
struct rlimit original {};

}  // namespace

void RaiseDescriptorLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  const struct rlimit before = rl;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20
                                             : std::min<rlim_t>(rl.rlim_max, rlim_t{1} << 20);
  if (rl.rlim_cur <= before.rlim_cur || ::setrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  original = before;
  raised = true;
}

void ReserveDescriptorTable(int count) {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t top = std::min<rlim_t>(rl.rlim_cur, static_cast<rlim_t>(count));
  if (top < 2) return;
  // A duplicate at the top descriptor makes the kernel size the table for
  // it; the table keeps that size after the close.
  for (int from = 0; from <= 2; ++from) {
    const int fd = ::fcntl(from, F_DUPFD_CLOEXEC, static_cast<int>(top - 1));
    if (fd >= 0) {
      ::close(fd);
      return;
    }
  }
}

void RestoreDescriptorLimitInChild() {
  if (raised) (void)::setrlimit(RLIMIT_NOFILE, &original);
}

}  // namespace ferry
