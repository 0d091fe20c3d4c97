// MappedFile: a read-only mmap of an open file, for the delta path, which
// needs the old and the new file as spans (engine/delta has no I/O).
//
// A file truncated by someone else while mapped raises SIGBUS on access; the
// delta path maps the source only after checking it against the scan and
// re-checks after use, the same window every reader has.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <span>

#include "engine/base/status.h"

namespace ferry::io {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile() {
    if (data_ && size_) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  MappedFile& operator=(MappedFile&& o) noexcept {
    if (this != &o) {
      Reset();
      data_ = o.data_;
      size_ = o.size_;
      o.data_ = nullptr;
      o.size_ = 0;
    }
    return *this;
  }

  // Maps `size` bytes of fd (size 0 maps nothing and succeeds).
  Status Map(int fd, size_t size) {
    if (size == 0) return Status::Ok();
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return PosixError("mmap", "", errno);
    ::madvise(p, size, MADV_SEQUENTIAL);
    data_ = p;
    size_ = size;
    return Status::Ok();
  }
  // Unmaps now, as destruction would; bytes() is empty after.
  void Reset() {
    if (data_ && size_) ::munmap(data_, size_);
    data_ = nullptr;
    size_ = 0;
  }
  std::span<const std::byte> bytes() const {
    return {static_cast<const std::byte*>(data_), size_};
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ferry::io
