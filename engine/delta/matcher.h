// The matcher: finds the old file's blocks in new data and produces a Delta.
//
// Algorithm. A window of block_size bytes rolls over the new data one byte at
// a time; at each position its weak sum is tested against the BlockIndex
// (prefilter bitmap, then hash table, then strong hash). On a confirmed match
// the matcher emits COPY and jumps a whole block ahead (so matching data costs
// one weak sum and one XXH3 per block, not a probe per byte); bytes no window
// matched become LITERAL. After a match of block i, block i + 1 is preferred
// among identical candidates so runs coalesce into one COPY. The short tail
// block of the old file is matched only against the last bytes of the new
// data (it is the only place a shorter block can be aligned with a file end).
//
// Parallelism. With threads > 1 the new data is cut into segments (about 4
// per thread, each at least max(1 MiB, 16 blocks)) scanned concurrently, each
// considering windows that START inside it, so a match crossing a segment
// boundary is found by the segment it starts in. Segments are then stitched in
// order: ops of a later segment already covered by an earlier segment's
// crossing match are dropped or trimmed (copies are byte ranges, so a COPY may
// be trimmed to start mid-block). The result differs from the single-threaded
// one only near boundaries (where a trimmed COPY may replace what the serial
// scan matched at another alignment); tests/engine/delta/matcher_test.cc
// checks it is at most 1% larger, and on the benchmark pairs it is identical.
//
// Streaming. StreamDelta hands the result to a sink as runs, window by
// window (MatcherOptions::window bytes of new data are scanned, in parallel,
// before the next), so a sender can put the first ops on the wire while it
// still scans the rest. A window boundary is a segment boundary that the
// scan of the next window starts at or after the end of the last match (so a
// match crossing it is kept); the delta differs from a single window's only
// near the boundaries, as with segments (the last run of a window is held
// back, so runs on both sides of a boundary still coalesce, unless it is
// 1 MiB or longer: a long unchanged stretch goes out window by window, as
// consecutive COPYs).
// ComputeDelta is StreamDelta with one window, gathered into a Delta.
//
// Degenerate inputs stay linear: identical blocks are deduplicated in the
// index, lookups never walk chains, and after a match the scan jumps ahead.
//
// Thread safety: ComputeDelta may be called concurrently; it only reads its
// inputs. Cost: O(new size) plus O(blocks log blocks) to index the signature;
// memory O(blocks + literal bytes). Each weak-sum collision without a match
// costs one strong hash of a block (counted in stats.false_weak_matches): a
// uniform 32-bit sum makes that ~size * blocks / 2^32 hashes, but a hostile
// signature built to collide with known new data could push the scan towards
// O(size * block_size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "engine/base/status.h"
#include "engine/delta/delta.h"
#include "engine/delta/signature.h"

namespace ferry::delta {

struct MatcherOptions {
  // 1 = on the calling thread, N = up to N TBB workers, <= 0 = TBB's default.
  int threads = 1;
  // 0 = automatic (1 segment for 1 thread, else ~4 per thread of at least
  // max(1 MiB, 16 blocks)). N > 0 forces N segments of any size, even smaller
  // than a block: for tests of the stitching, and for benchmarks.
  uint64_t segments = 0;
  // StreamDelta: bytes of new data scanned before the runs found so far go
  // to the sink; 0 = all of it (one call). Segments are cut per window.
  uint64_t window = 0;
};

// A run of the new data, in order: COPY of the old file's bytes
// [old_offset, old_offset + length), or LITERAL new_data[new_pos, +length).
struct DeltaRun {
  uint64_t new_pos = 0;
  uint64_t length = 0;
  uint64_t old_offset = 0;  // COPY only
  bool copy = false;
  bool operator==(const DeltaRun&) const = default;
};

// Receives consecutive runs; together the calls cover the new data in
// order. An error stops the scan and is StreamDelta's result.
using DeltaRunSink = std::function<Status(std::span<const DeltaRun> runs)>;

// Computes the delta that turns the file `sig` describes into `new_data`.
// Errors: kInvalidArgument if `sig` fails Signature::Validate or has 2^32 or
// more blocks.
Result<Delta> ComputeDelta(const Signature& sig,
                           std::span<const std::byte> new_data,
                           const MatcherOptions& options);

// Same, into *out, reusing the capacity of its vectors: callers computing
// many deltas avoid re-allocating (and page-faulting) the literal buffer.
// On error *out is unspecified.
Status ComputeDeltaInto(const Signature& sig,
                        std::span<const std::byte> new_data,
                        const MatcherOptions& options, Delta* out);

// Computes the delta ComputeDelta would with these options and passes it to
// `sink` as runs, at most one call per window (see MatcherOptions::window), the sink running on the
// calling thread. *stats counts the runs passed. Errors: as ComputeDelta,
// or the sink's.
Status StreamDelta(const Signature& sig, std::span<const std::byte> new_data,
                   const MatcherOptions& options, const DeltaRunSink& sink,
                   DeltaStats* stats);

// Same as ComputeDelta above, with MatcherOptions{threads}.
Result<Delta> ComputeDelta(const Signature& sig,
                           std::span<const std::byte> new_data, int threads);

}  // namespace ferry::delta
