#include "engine/base/hash.h"

#include <cstdio>

namespace ferry {

std::string Hash128::Hex() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx",
                static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return buf;
}

Hash128 HashBytes(std::span<const std::byte> data) {
  XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  return Hash128{h.low64, h.high64};
}

Hasher::Hasher() : state_(XXH3_createState()) { Reset(); }
Hasher::~Hasher() { XXH3_freeState(state_); }
void Hasher::Reset() { XXH3_128bits_reset(state_); }
void Hasher::Update(std::span<const std::byte> data) {
  XXH3_128bits_update(state_, data.data(), data.size());
}
Hash128 Hasher::Finish() const {
  XXH128_hash_t h = XXH3_128bits_digest(state_);
  return Hash128{h.low64, h.high64};
}

}  // namespace ferry
