// Serialized form of a Delta: a compact binary op stream plus the literal
// bytes, compressed with zstd. The decoder faces hostile peers: every count,
// length and offset is range-checked before it is used or allocated.
//
// Encoding (inside the wire.h envelope, magic "FDL1"):
//   varint old_size | varint new_size | varint op_count | varint literal_size
//   op_count ops:   varint (length << 1 | is_copy)
//                   COPY only: varint zigzag(old_offset - previous COPY's end)
//   literal_size literal bytes
// Relative offsets make the common "next block" COPY cost one byte.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/base/status.h"
#include "engine/delta/delta.h"

namespace ferry::delta {

inline constexpr uint64_t kDefaultMaxDecodedDelta = uint64_t{1} << 32;  // 4 GiB

// Encodes a delta; `zstd_level` as for ZSTD_compress (1 fastest .. 19).
// Errors: kCorrupt if the delta fails Delta::Validate.
Result<std::vector<std::byte>> EncodeDelta(const Delta& delta,
                                           int zstd_level = 3);

// Decodes and validates (Delta::Validate) an encoded delta whose payload is
// at most `max_decoded` bytes. stats.literal_bytes/matched_bytes are
// recomputed; false_weak_matches is 0. Errors: kCorrupt naming the field
// (bad magic, truncated, counts larger than the remaining input, zero-length
// op, COPY outside old_size, sums that do not add up, trailing bytes).
Result<Delta> DecodeDelta(std::span<const std::byte> encoded,
                          uint64_t max_decoded = kDefaultMaxDecodedDelta);

}  // namespace ferry::delta
