// A per-thread scratch buffer for copying file data (hashing through
// pread, bouncing writes that would otherwise come straight from a file
// mapping). Allocated once per thread, never zeroed, never freed until the
// thread ends: thousands of small files must not each map, zero and unmap
// a fresh buffer.
//
// Thread safety: each thread gets its own buffer. One use at a time per
// thread: a caller must not hold it across a call that uses it too.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

namespace ferry::io {

inline std::span<std::byte> ThreadScratch() {
  constexpr size_t kSize = 1 << 20;
  thread_local std::unique_ptr<std::byte[]> buf;
  if (!buf) buf.reset(new std::byte[kSize]);
  return {buf.get(), kSize};
}

}  // namespace ferry::io
