#include "engine/delta/block_index.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "engine/delta/block_size.h"

namespace ferry::delta {

namespace {
constexpr unsigned kMinBitmapBits = 12;
constexpr unsigned kMaxBitmapBits = 22;  // 512 KiB: half of a typical L2
constexpr unsigned kBitmapSlack = 6;     // 64-128 bits per block
}  // namespace

BlockIndex::BlockIndex(const Signature& sig) : sig_(sig) {
  full_blocks_ = sig.file_size / sig.block_size;
  const unsigned need = static_cast<unsigned>(std::bit_width(full_blocks_));
  bitmap_bits_ = std::clamp(need + kBitmapSlack, kMinBitmapBits, kMaxBitmapBits);
  bitmap_.assign((size_t{1} << bitmap_bits_) / 64, 0);

  entries_.resize(full_blocks_);
  for (size_t i = 0; i < full_blocks_; ++i) {
    entries_[i] = static_cast<uint32_t>(i);
    const uint32_t bit = WeakIndex(sig.weak[i], bitmap_bits_);
    bitmap_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
  const uint32_t len = sig.strong_len;
  std::sort(entries_.begin(), entries_.end(), [&](uint32_t a, uint32_t b) {
    if (sig.weak[a] != sig.weak[b]) return sig.weak[a] < sig.weak[b];
    const int c = std::memcmp(sig.strong.data() + size_t{a} * len,
                              sig.strong.data() + size_t{b} * len, len);
    return c != 0 ? c < 0 : a < b;
  });

  size_t distinct = 0;
  for (size_t i = 0; i < full_blocks_; ++i) {
    if (i == 0 || sig.weak[entries_[i]] != sig.weak[entries_[i - 1]]) ++distinct;
  }
  table_bits_ = std::max(4u, static_cast<unsigned>(std::bit_width(distinct * 2)));
  table_.assign(size_t{1} << table_bits_, Slot{});
  const size_t mask = table_.size() - 1;
  for (size_t i = 0; i < full_blocks_;) {
    const uint32_t w = sig.weak[entries_[i]];
    size_t j = i + 1;
    while (j < full_blocks_ && sig.weak[entries_[j]] == w) ++j;
    size_t s = WeakIndex(w, table_bits_);
    while (table_[s].count != 0) s = (s + 1) & mask;
    table_[s] = Slot{w, static_cast<uint32_t>(i), static_cast<uint32_t>(j - i)};
    i = j;
  }
}

const BlockIndex::Slot* BlockIndex::Lookup(uint32_t weak) const {
  const size_t mask = table_.size() - 1;
  for (size_t s = WeakIndex(weak, table_bits_);; s = (s + 1) & mask) {
    const Slot& slot = table_[s];
    if (slot.count == 0) return nullptr;
    if (slot.weak == weak) return &slot;
  }
}

int BlockIndex::Compare(uint32_t block, const uint8_t* strong) const {
  return std::memcmp(sig_.strong.data() + size_t{block} * sig_.strong_len, strong,
                     sig_.strong_len);
}

int64_t BlockIndex::Find(uint32_t weak, std::span<const std::byte> window,
                         int64_t preferred, uint64_t* false_matches) const {
  const bool try_preferred = preferred >= 0 &&
                             static_cast<size_t>(preferred) < full_blocks_ &&
                             sig_.weak[preferred] == weak;
  const Slot* slot = try_preferred ? nullptr : Lookup(weak);
  if (!try_preferred && slot == nullptr) return kNoBlock;

  uint8_t strong[kMaxStrongLen];
  StrongHash(window, {strong, sig_.strong_len});
  if (try_preferred) {
    if (Compare(static_cast<uint32_t>(preferred), strong) == 0) return preferred;
    slot = Lookup(weak);
  }
  if (slot != nullptr) {
    const uint32_t* first = entries_.data() + slot->first;
    const uint32_t* last = first + slot->count;
    const uint32_t* it = std::lower_bound(
        first, last, strong,
        [&](uint32_t block, const uint8_t* s) { return Compare(block, s) < 0; });
    if (it != last && Compare(*it, strong) == 0) return *it;
  }
  ++*false_matches;
  return kNoBlock;
}

}  // namespace ferry::delta
