#include "engine/delta/block_size.h"

#include <bit>

namespace ferry::delta {

uint32_t ChooseBlockSize(uint64_t file_size) {
  if (file_size == 0) return kMinBlockSize;
  // With L = floor(log2(size)): round(log2(size) / 2) == floor((L + 1) / 2)
  // (for odd L the fraction cannot reach the next integer; for even L the
  // half-way point is exactly 2^(L+1), which belongs to the next L).
  const unsigned log2_size = static_cast<unsigned>(std::bit_width(file_size)) - 1;
  const unsigned log2_block = (log2_size + 1) / 2;
  if (log2_block >= 17) return kMaxBlockSize;  // also avoids shifting too far
  const uint32_t block = uint32_t{1} << log2_block;
  return block < kMinBlockSize ? kMinBlockSize : block;
}

uint32_t ChooseStrongLen(uint64_t file_size) {
  const uint32_t size_bits = static_cast<uint32_t>(std::bit_width(file_size));
  const uint32_t bytes = (size_bits + 40 + 7) / 8;
  if (bytes < 8) return 8;
  if (bytes > kMaxStrongLen) return kMaxStrongLen;
  return bytes;
}

}  // namespace ferry::delta
