// Serialized form of a Signature, zstd-compressed (the weak and strong sums
// of random data do not compress, but those of all-zero or repetitive files
// collapse). Faces hostile peers: the geometry is validated and the block
// count is checked against the payload length before anything is allocated.
//
// Encoding (inside the wire.h envelope, magic "FSG1"):
//   varint file_size | varint block_size | varint strong_len
//   block_count weak sums, 4 bytes little-endian each
//   block_count * strong_len strong-hash bytes
// where block_count = ceil(file_size / block_size) is implied.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/base/status.h"
#include "engine/delta/signature.h"

namespace ferry::delta {

inline constexpr uint64_t kDefaultMaxDecodedSignature = uint64_t{1} << 30;
inline constexpr uint32_t kMaxWireBlockSize = uint32_t{1} << 30;

// Errors: kInvalidArgument if `sig` fails Signature::Validate.
Result<std::vector<std::byte>> EncodeSignature(const Signature& sig,
                                               int zstd_level = 1);

// Errors: kCorrupt naming the field (bad magic, truncated, block_size 0 or
// above kMaxWireBlockSize, strong_len outside 1..16, payload length not
// matching the block count implied by file_size / block_size).
Result<Signature> DecodeSignature(
    std::span<const std::byte> encoded,
    uint64_t max_decoded = kDefaultMaxDecodedSignature);

}  // namespace ferry::delta
