// Deterministic sample data for the probes and micro-benchmarks: bytes that
// look like a hosting account's files (mail, HTML, logs) to a compressor, so
// zstd's speed and ratio resemble what a migration sees. Random bytes would
// understate both; zeros would overstate them.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ferry::probe {

// `size` bytes of text-like data: words from a fixed vocabulary, numbers,
// punctuation and line breaks, from a seeded generator (same seed, same
// bytes). zstd -3 compresses it about 3:1.
std::vector<std::byte> TextLikeData(size_t size, uint64_t seed = 1);

// A copy of `data` edited the way files change between delta passes: `edits`
// short insertions, deletions and overwrites at seeded positions.
std::vector<std::byte> EditedCopy(const std::vector<std::byte>& data, int edits,
                                  uint64_t seed = 2);

}  // namespace ferry::probe
