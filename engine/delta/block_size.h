// Signature geometry rules: the block size and the strong-hash length chosen
// from the old file's size.
//
// Block size: the power of two nearest to sqrt(file_size) on a log scale,
// i.e. 2^round(log2(file_size) / 2), clamped to [kMinBlockSize,
// kMaxBlockSize]. The square root balances the two costs of a delta: the
// signature grows as size / block and the literal data around each edit grows
// as block. Rounding to a power of two (rsync rounds sqrt down to a multiple
// of 8) keeps blocks aligned with the 4-64 KiB pages of databases, VM images
// and other page-structured files, so a rewritten page costs one page of
// literal data instead of the two or three unaligned blocks it overlaps; the
// rounding moves the block at most a factor sqrt(2) from sqrt(size), which
// costs at most ~6% in the balanced transfer model. bench/results/delta.md
// has the measurements (this rule vs rsync's, sqrt/2, 2*sqrt and librsync's
// fixed 2 KiB; literal bytes vs rsync's on the same pairs).
//
// Strong length: enough bits that a false strong match is improbable even if
// every byte position of a file of that size were compared (log2(size) + 40
// bits), at least 8 and at most 16 bytes (XXH3-128 has 16). The whole-file
// hash checked after patching is the backstop.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>

namespace ferry::delta {

inline constexpr uint32_t kMinBlockSize = 1024;
inline constexpr uint32_t kMaxBlockSize = 128 * 1024;
inline constexpr uint32_t kMinStrongLen = 1;   // accepted by the validators
inline constexpr uint32_t kMaxStrongLen = 16;  // XXH3-128

// Block size for an old file of `file_size` bytes (also fine for 0).
uint32_t ChooseBlockSize(uint64_t file_size);

// Strong-hash length in bytes for an old file of `file_size` bytes.
uint32_t ChooseStrongLen(uint64_t file_size);

}  // namespace ferry::delta
