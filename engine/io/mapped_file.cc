#include "engine/io/mapped_file.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>

namespace ferry::io {

namespace {

// A guarded mapping: [start, end) page-aligned; start 0 = free. A slot is
// taken with a compare-exchange on `start` after `end` and `torn` are set,
// and freed (start back to 0) before the range is unmapped, so the handler
// never acts on a range that is not mapped.
struct Slot {
  std::atomic<uintptr_t> start{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> torn{false};
  std::atomic<bool> claimed{false};
};

Slot g_slots[kGuardSlots];
struct sigaction g_previous;
uintptr_t g_page = 4096;

void OnSigbus(int sig, siginfo_t* info, void* context) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Slot& s : g_slots) {
    const uintptr_t start = s.start.load(std::memory_order_acquire);
    if (start == 0 || at < start || at >= s.end.load(std::memory_order_acquire)) continue;
    // Every page from here on lies past the file's new end: zeros instead.
    const uintptr_t page = at & ~(g_page - 1);
    void* p = ::mmap(reinterpret_cast<void*>(page), s.end.load(std::memory_order_acquire) - page,
                     PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      s.torn.store(true, std::memory_order_release);
      return;  // the access is retried and reads zeros
    }
    break;
  }
  // Not a guarded mapping: what was there before.
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
      g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(sig);
    return;
  }
  // The default: returning re-runs the access, which now kills the process.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGBUS, &dfl, nullptr);
}

void InstallHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    const long page = ::sysconf(_SC_PAGESIZE);
    if (page > 0) g_page = static_cast<uintptr_t>(page);
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &g_previous);
  });
}

int Claim(uintptr_t start, uintptr_t end) {
  for (int i = 0; i < kGuardSlots; ++i) {
    bool expected = false;
    if (!g_slots[i].claimed.compare_exchange_strong(expected, true)) continue;
    g_slots[i].end.store(end, std::memory_order_release);
    g_slots[i].torn.store(false, std::memory_order_release);
    g_slots[i].start.store(start, std::memory_order_release);
    return i;
  }
  return -1;
}

}  // namespace

Status MappedFile::Map(int fd, size_t size) {
  Reset();
  if (size == 0) return Status::Ok();
  InstallHandler();
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return PosixError("mmap", "", errno);
  ::madvise(p, size, MADV_SEQUENTIAL);
  data_ = p;
  size_ = size;
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t end = (start + size + g_page - 1) & ~(g_page - 1);
  slot_ = Claim(start, end);
  return Status::Ok();
}

void MappedFile::Reset() {
  if (slot_ >= 0) {
    g_slots[slot_].start.store(0, std::memory_order_release);
    g_slots[slot_].claimed.store(false, std::memory_order_release);
    slot_ = -1;
  }
  if (data_ && size_) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

bool MappedFile::Guarded() {
  InstallHandler();
  struct sigaction now {};
  return ::sigaction(SIGBUS, nullptr, &now) == 0 && (now.sa_flags & SA_SIGINFO) != 0 &&
         now.sa_sigaction == OnSigbus;
}

bool MappedFile::torn() const {
  return slot_ >= 0 && g_slots[slot_].torn.load(std::memory_order_acquire);
}

}  // namespace ferry::io
