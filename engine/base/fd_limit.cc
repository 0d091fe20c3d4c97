#include "engine/base/fd_limit.h"

#include <sys/resource.h>

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

void RestoreDescriptorLimitInChild() {
  if (raised) (void)::setrlimit(RLIMIT_NOFILE, &original);
}

}  // namespace ferry
