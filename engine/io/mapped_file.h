// MappedFile: a read-only mmap of an open file, for the delta path, which
// needs the old and the new file as spans (engine/delta has no I/O).
//
// A file that someone else truncates while it is mapped would raise SIGBUS
// on the first access past its new end, killing the process mid-pass (a log
// rotated with copytruncate on a live source). Mappings are guarded
// instead: a process-wide SIGBUS handler (installed by the first Map)
// replaces the pages from the faulting one to the mapping's end with
// zero-filled memory, so the access goes on, and torn() becomes true. The
// caller checks torn() after using the bytes and treats the file as changed
// while read (the delta path also re-checks size and time after use). At
// most kGuardSlots mappings are guarded at once; a mapping beyond that is
// not (torn() stays false and SIGBUS is the old behaviour), which needs
// that many files in flight. A SIGBUS outside every guarded mapping goes to
// the disposition that was there before (the default: the process dies).
//
// Thread safety: Map/Reset/destruction are thread-compatible per object;
// torn() may be read from any thread.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <span>

#include "engine/base/status.h"

namespace ferry::io {

inline constexpr int kGuardSlots = 1024;

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile() { Reset(); }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_), slot_(o.slot_) {
    o.data_ = nullptr;
    o.size_ = 0;
    o.slot_ = -1;
  }
  MappedFile& operator=(MappedFile&& o) noexcept {
    if (this != &o) {
      Reset();
      data_ = o.data_;
      size_ = o.size_;
      slot_ = o.slot_;
      o.data_ = nullptr;
      o.size_ = 0;
      o.slot_ = -1;
    }
    return *this;
  }

  // Maps `size` bytes of fd (size 0 maps nothing and succeeds), guarded.
  Status Map(int fd, size_t size);
  // Unmaps now, as destruction would; bytes() is empty after.
  void Reset();
  std::span<const std::byte> bytes() const {
    return {static_cast<const std::byte*>(data_), size_};
  }
  // Some of the bytes read as zeros because the file was cut short while
  // mapped: what was read is not the file.
  bool torn() const;
  // Whether the SIGBUS handler is in place (installs it): false where the
  // process's SIGBUS disposition cannot be replaced (a sanitizer may keep
  // its own); mappings are then unguarded.
  static bool Guarded();

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  int slot_ = -1;  // guard slot, -1: none
};

}  // namespace ferry::io
