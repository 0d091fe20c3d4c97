// XXH3-128 content hashes: the strong hash of the engine (change detection
// with --checksum, whole-file result checks, delta block confirmation).
//
// Thread safety: Hasher is thread-compatible; Hash128 is a value.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ferry {

struct Hash128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const Hash128&) const = default;
  std::string Hex() const;  // 32 lowercase hex digits, high half first
};

Hash128 HashBytes(std::span<const std::byte> data);

// Streaming XXH3-128.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void Update(std::span<const std::byte> data);
  Hash128 Finish() const;
  void Reset();

 private:
  void* state_;  // XXH3 state of the implementation chosen (hash.cc)
};

}  // namespace ferry
