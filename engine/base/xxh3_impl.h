// The XXH3-128 functions ferry hashes file data with, chosen once per
// process: Debian's libxxhash is built for baseline x86-64 (SSE2), so on a
// CPU with AVX2 the same header's inline code, compiled for AVX2
// (xxh3_avx2.c), hashes about three times as fast. The results are the
// same bit for bit (XXH3's definition does not depend on the vector unit);
// tests/engine/base/hash_test.cc compares both against the library.
//
// Internal to engine/base: everything else uses hash.h.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// One implementation: a state is opaque, made and freed by its own create
// and destroy.
typedef struct FerryXxh3Impl {
  void* (*create)(void);
  void (*destroy)(void* state);
  void (*reset)(void* state);
  void (*update)(void* state, const void* data, size_t len);
  void (*digest)(const void* state, uint64_t* lo, uint64_t* hi);
  void (*hash)(const void* data, size_t len, uint64_t* lo, uint64_t* hi);
} FerryXxh3Impl;

// The AVX2 build of XXH3 (xxh3_avx2.c): defined only in x86-64 builds
// (FERRY_XXH3_AVX2 in engine/base), and only for a CPU that has AVX2.
const FerryXxh3Impl* FerryXxh3Avx2(void);

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
namespace ferry::hash_internal {
// Debian's libxxhash, and the implementation HashBytes and Hasher use.
const FerryXxh3Impl& LibraryXxh3();
const FerryXxh3Impl& ChosenXxh3();
}  // namespace ferry::hash_internal
#endif
