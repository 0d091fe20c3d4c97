// DeferredClose: a helper process that holds descriptors of files this
// process no longer needs and closes them once this process lets go of it
// (destroys the object, or exits).
//
// Why: the last close of a file that was replaced (renamed over) frees its
// blocks, and on a file system mounted with `discard` (ext4 without a
// journal discards synchronously) that waits for the device: about 65 ms
// of a 256 MiB database pass on the benchmark VM, a quarter of it, whether
// the close runs on this thread or another, because a process cannot end
// before its descriptors are closed. Handed to the helper, that work runs
// after the pass: the new files are in place and the command returns; the
// old blocks are freed a moment later.
//
// The helper is this same executable (/proc/self/exe), started with
// posix_spawn, this process's environment and a variable that a
// constructor in this file looks for before main(): it never runs the
// program. That process forks the helper and exits (reaped here at
// destruction; init adopts the helper), so a long-running process (a test)
// keeps no child. The helper (named "ferry-deferred") has /dev/null as
// stdio and closes every other descriptor but its end of the socket (it
// never holds a session's pipes open), changes to "/", and receives
// descriptors over a Unix socket (SCM_RIGHTS), holding up to kMaxHeld. At the end of the stream it closes them in the order they
// came and exits. If it dies (killed), the kernel closes what it held:
// nothing is lost, the freeing just happens then. Where it cannot start
// (no /proc, spawn refused), Start fails and the caller closes as before.
//
// Thread safety: Hand() may be called from any thread; Start/destruction
// and pid() from one.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <memory>

#include "engine/base/status.h"

namespace ferry::io {

class DeferredClose {
 public:
  // Descriptors the helper holds at most (Hand refuses more).
  static constexpr size_t kMaxHeld = 4096;

  // Starts the helper. Errors: socketpair or posix_spawn failed (kIo).
  static Result<std::unique_ptr<DeferredClose>> Start();
  // Ends the stream: the helper closes what it holds and exits (this waits
  // only for the spawned process, which exited right after forking it).
  ~DeferredClose();
  DeferredClose(const DeferredClose&) = delete;
  DeferredClose& operator=(const DeferredClose&) = delete;

  // Hands a duplicate of fd to the helper; the caller still owns fd and
  // closes it as usual (no longer the last reference). false: not handed
  // (kMaxHeld reached, or the helper is gone): the caller's close is then
  // the last one, as without a helper.
  bool Hand(int fd);

  // The helper's process id (tests look at what it holds); -1 if it did
  // not say (it died early). Waits for the helper's first message.
  pid_t pid();

 private:
  DeferredClose(int sock, pid_t spawned) : sock_(sock), spawned_(spawned) {}
  int sock_;
  pid_t spawned_;
  pid_t helper_ = 0;  // 0: not read yet
  std::atomic<size_t> handed_{0};
};

}  // namespace ferry::io
