// The signature of an old file: per block a weak rolling checksum and a
// truncated XXH3-128 strong hash. The receiver computes it over its old copy
// and sends it; the sender matches its new data against it (matcher.h).
//
// Blocks are [i * block_size, min((i + 1) * block_size, file_size)); only the
// last block may be shorter ("the tail"). A file of 0 bytes has 0 blocks.
//
// Thread safety: Signature is a value; ComputeSignature may be called
// concurrently (it runs its own TBB work in an arena of `threads`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/base/status.h"

namespace ferry::delta {

struct SignatureParams {
  uint32_t block_size = 0;  // bytes per block; must be > 0
  uint32_t strong_len = 0;  // bytes of XXH3-128 kept per block; 1..16
};

// ChooseBlockSize / ChooseStrongLen (block_size.h) for a file of this size.
SignatureParams DefaultSignatureParams(uint64_t file_size);

struct Signature {
  uint64_t file_size = 0;
  uint32_t block_size = 0;
  uint32_t strong_len = 0;
  std::vector<uint32_t> weak;   // one per block
  std::vector<uint8_t> strong;  // block_count() * strong_len bytes

  size_t block_count() const { return weak.size(); }
  // Length of block i (block_size except possibly for the last one).
  uint32_t block_length(size_t i) const;
  std::span<const uint8_t> strong_of(size_t i) const {
    return {strong.data() + i * strong_len, strong_len};
  }

  // Checks the geometry: block_size > 0, strong_len in 1..16, weak.size() ==
  // ceil(file_size / block_size), strong.size() == count * strong_len.
  // The error (kInvalidArgument) names the offending field.
  Status Validate() const;
};

// Number of blocks a file of `file_size` bytes has with `block_size` (> 0).
uint64_t BlockCount(uint64_t file_size, uint32_t block_size);

// Checks params (block_size > 0, strong_len 1..16); errors name the field.
Status ValidateParams(const SignatureParams& params);

// The strong hash of one block, truncated to `out.size()` (<= 16) bytes:
// the first bytes of XXH3-128's canonical (big-endian) form.
void StrongHash(std::span<const std::byte> block, std::span<uint8_t> out);

// Computes the signature of `old_data`. Blocks are hashed in parallel on up to
// `threads` TBB workers (threads <= 0: TBB's default concurrency); the result
// does not depend on `threads`. Cost: one pass over the data (weak sum and
// XXH3 per block); memory (4 + strong_len) bytes per block.
// Errors: kInvalidArgument for bad params.
Result<Signature> ComputeSignature(std::span<const std::byte> old_data,
                                   SignatureParams params, int threads);

}  // namespace ferry::delta
