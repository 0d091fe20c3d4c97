// Internal: runs TBB work on at most `threads` workers.
//
// threads <= 0 means TBB's default concurrency; threads == 1 runs `fn` on the
// calling thread without touching TBB, so single-threaded results and timings
// carry no scheduler overhead.
#pragma once

#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <utility>

namespace ferry::delta {

template <typename Fn>
void RunWithThreads(int threads, Fn&& fn) {
  if (threads == 1) {
    fn();
    return;
  }
  // More workers than hardware threads cannot run anyway (and make TBB warn);
  // callers still plan their work split from the requested count.
  const int hw = tbb::info::default_concurrency();
  tbb::task_arena arena(threads <= 0 || threads > hw ? hw : threads);
  arena.execute(std::forward<Fn>(fn));
}

// Effective worker count for planning work splits.
inline int EffectiveThreads(int threads) {
  return threads <= 0 ? tbb::this_task_arena::max_concurrency() : threads;
}

}  // namespace ferry::delta
