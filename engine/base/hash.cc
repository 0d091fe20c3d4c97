#include "engine/base/hash.h"

#include <cstdio>

#include "engine/base/xxh3_impl.h"

namespace ferry {

std::string Hash128::Hex() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx",
                static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return buf;
}

namespace {

void* LibCreate() { return XXH3_createState(); }
void LibDestroy(void* s) { XXH3_freeState(static_cast<XXH3_state_t*>(s)); }
void LibReset(void* s) { XXH3_128bits_reset(static_cast<XXH3_state_t*>(s)); }
void LibUpdate(void* s, const void* data, size_t len) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(s), data, len);
}
void LibDigest(const void* s, uint64_t* lo, uint64_t* hi) {
  const XXH128_hash_t h = XXH3_128bits_digest(static_cast<const XXH3_state_t*>(s));
  *lo = h.low64;
  *hi = h.high64;
}
void LibHash(const void* data, size_t len, uint64_t* lo, uint64_t* hi) {
  const XXH128_hash_t h = XXH3_128bits(data, len);
  *lo = h.low64;
  *hi = h.high64;
}
constexpr FerryXxh3Impl kLibrary = {LibCreate, LibDestroy, LibReset, LibUpdate, LibDigest, LibHash};

const FerryXxh3Impl& Impl() {
  static const FerryXxh3Impl* const impl = [] {
#if defined(FERRY_XXH3_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return FerryXxh3Avx2();
#endif
    return &kLibrary;
  }();
  return *impl;
}

}  // namespace

namespace hash_internal {
const FerryXxh3Impl& LibraryXxh3() { return kLibrary; }
const FerryXxh3Impl& ChosenXxh3() { return Impl(); }
}  // namespace hash_internal

Hash128 HashBytes(std::span<const std::byte> data) {
  Hash128 h;
  Impl().hash(data.data(), data.size(), &h.lo, &h.hi);
  return h;
}

Hasher::Hasher() : state_(Impl().create()) { Reset(); }
Hasher::~Hasher() { Impl().destroy(state_); }
void Hasher::Reset() { Impl().reset(state_); }
void Hasher::Update(std::span<const std::byte> data) {
  Impl().update(state_, data.data(), data.size());
}
Hash128 Hasher::Finish() const {
  Hash128 h;
  Impl().digest(state_, &h.lo, &h.hi);
  return h;
}

}  // namespace ferry
