// XXH3-128 from Debian's xxhash.h, inlined and compiled with -mavx2 (see
// xxh3_impl.h). C, and nothing but xxhash.h: no inline function with
// external linkage is compiled for AVX2 here, so none can be picked by the
// linker for code that runs on a CPU without it.
#include "engine/base/xxh3_impl.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

static void* Create(void) { return XXH3_createState(); }
static void Destroy(void* s) { XXH3_freeState((XXH3_state_t*)s); }
static void Reset(void* s) { XXH3_128bits_reset((XXH3_state_t*)s); }
static void Update(void* s, const void* data, size_t len) {
  XXH3_128bits_update((XXH3_state_t*)s, data, len);
}
static void Digest(const void* s, uint64_t* lo, uint64_t* hi) {
  XXH128_hash_t h = XXH3_128bits_digest((const XXH3_state_t*)s);
  *lo = h.low64;
  *hi = h.high64;
}
static void Hash(const void* data, size_t len, uint64_t* lo, uint64_t* hi) {
  XXH128_hash_t h = XXH3_128bits(data, len);
  *lo = h.low64;
  *hi = h.high64;
}

const FerryXxh3Impl* FerryXxh3Avx2(void) {
  static const FerryXxh3Impl kImpl = {Create, Destroy, Reset, Update, Digest, Hash};
  return &kImpl;
}
