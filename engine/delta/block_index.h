// BlockIndex: the lookup structure the matcher probes at every byte position.
//
// Three levels, cheapest first:
//  1. a prefilter bitmap indexed by the weak sum's high bits, 64-128 bits
//     per block but at most 512 KiB so it stays in L2 (below the cap at most
//     1/64 of the bits are set): most non-matching positions cost one bit
//     test;
//  2. an open-addressing hash table from weak sum to a run of blocks;
//  3. within a run, blocks sorted by (strong hash, block index), so equal
//     weak sums cost one strong hash of the window plus a binary search.
//     Identical blocks (all-zero files, one repeated block: rsync issue #217)
//     therefore never make a lookup walk a long chain.
//
// Only full-length blocks are indexed; the short tail block is matched
// separately by the matcher.
//
// Thread safety: immutable after construction; Find may be called from many
// threads at once. Lifetime: borrows the Signature, which must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/delta/rolling_checksum.h"
#include "engine/delta/signature.h"

namespace ferry::delta {

inline constexpr int64_t kNoBlock = -1;

class BlockIndex {
 public:
  // `sig` must be valid (Signature::Validate). O(n log n) in the block count.
  explicit BlockIndex(const Signature& sig);

  const Signature& signature() const { return sig_; }
  size_t indexed_blocks() const { return full_blocks_; }

  // The prefilter as a small value, so a hot loop can keep it in registers
  // (a call to Find inside the loop would otherwise force reloads).
  struct Prefilter {
    const uint64_t* bits;
    unsigned log2_bits;
    // 0 means no indexed block has this weak sum; 1 means "maybe". An
    // integer so several probes can be OR-ed without branches.
    uint64_t Probe(uint32_t weak) const {
      const uint32_t bit = WeakIndex(weak, log2_bits);
      return (bits[bit >> 6] >> (bit & 63)) & 1;
    }
    bool MaybeContains(uint32_t weak) const { return Probe(weak) != 0; }
  };
  Prefilter prefilter() const { return {bitmap_.data(), bitmap_bits_}; }
  bool MaybeContains(uint32_t weak) const { return prefilter().MaybeContains(weak); }

  // Returns the index of a full block whose weak sum is `weak` and whose
  // strong hash equals that of `window` (window.size() == block_size), or
  // kNoBlock. Among identical blocks it returns `preferred` when that is one
  // of them (so consecutive matches coalesce), else the lowest index.
  // Increments *false_matches when the weak sum matched but no strong did.
  int64_t Find(uint32_t weak, std::span<const std::byte> window,
               int64_t preferred, uint64_t* false_matches) const;

 private:
  struct Slot {
    uint32_t weak = 0;
    uint32_t first = 0;  // into entries_
    uint32_t count = 0;  // 0: empty slot
  };

  const Slot* Lookup(uint32_t weak) const;
  int Compare(uint32_t block, const uint8_t* strong) const;

  const Signature& sig_;
  size_t full_blocks_ = 0;
  unsigned bitmap_bits_ = 0;
  std::vector<uint64_t> bitmap_;
  unsigned table_bits_ = 0;
  std::vector<Slot> table_;
  std::vector<uint32_t> entries_;  // block indices sorted by (weak, strong, index)
};

}  // namespace ferry::delta
