#include "engine/delta/matcher.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/delta/block_index.h"
#include "engine/delta/parallel.h"
#include "engine/delta/rolling_checksum.h"

namespace ferry::delta {

namespace {

// LITERAL pieces become bytes of Delta::literals at the end.
using Piece = DeltaRun;

struct SegmentResult {
  std::vector<Piece> pieces;
  uint64_t false_matches = 0;
};

constexpr uint32_t kM = kWeakMultiplier;
constexpr uint32_t kM2 = kM * kM;
constexpr uint32_t kM3 = kM2 * kM;
constexpr uint32_t kM4 = kM3 * kM;

// StreamDelta passes a window's last run on at once from this length on.
constexpr uint64_t kHoldBackMax = 1u << 20;

void Append(std::vector<Piece>& out, const Piece& p) {
  if (!out.empty()) {
    Piece& last = out.back();
    if (last.copy == p.copy && last.new_pos + last.length == p.new_pos &&
        (!p.copy || last.old_offset + last.length == p.old_offset)) {
      last.length += p.length;
      return;
    }
  }
  out.push_back(p);
}

class Scanner {
 public:
  Scanner(const BlockIndex& index, std::span<const std::byte> data)
      : index_(index),
        sig_(index.signature()),
        roller_(sig_.block_size),
        data_(data) {}

  // Scans windows starting in [begin, end). The pieces cover [begin, X) where
  // X >= end (X > end when the last match crosses `end`); the segment that
  // ends the data also tries the tail block and covers up to data.size().
  void Scan(uint64_t begin, uint64_t end, SegmentResult* out) const {
    const uint64_t n = data_.size();
    const uint32_t b = sig_.block_size;
    const bool last_segment = end == n;
    const uint64_t stop = std::min<uint64_t>(end, n >= b ? n - b + 1 : 0);
    const auto* d = reinterpret_cast<const uint8_t*>(data_.data());
    uint64_t lit = begin;
    uint64_t p = begin;
    int64_t prev = kNoBlock;
    uint64_t false_matches = 0;
    std::vector<Piece>& pieces = out->pieces;
    const BlockIndex::Prefilter prefilter = index_.prefilter();

    while (p < stop) {
      uint32_t h = WeakSum(data_.subspan(p, b));
      int64_t block = kNoBlock;
      for (;;) {
        if (prefilter.MaybeContains(h)) [[unlikely]] {
          block = index_.Find(h, data_.subspan(p, b),
                              prev == kNoBlock ? kNoBlock : prev + 1,
                              &false_matches);
          if (block != kNoBlock) break;
        }
        // Skip ahead four windows at a time while all four miss the
        // prefilter. Sums at p+1..p+4 are computed from h independently
        // (h * M^k plus a data-only term), so the serial dependency is one
        // multiply-add per four bytes instead of per byte.
        while (p + 4 < stop) {
          const std::byte* o = data_.data() + p;
          const std::byte* in = o + b;
          const uint32_t t0 = roller_.Term(o[0], in[0]);
          const uint32_t u2 = t0 * kM + roller_.Term(o[1], in[1]);
          const uint32_t u3 = u2 * kM + roller_.Term(o[2], in[2]);
          const uint32_t u4 = u3 * kM + roller_.Term(o[3], in[3]);
          const uint32_t h1 = h * kM + t0;
          const uint32_t h2 = h * kM2 + u2;
          const uint32_t h3 = h * kM3 + u3;
          const uint32_t h4 = h * kM4 + u4;
          if (prefilter.Probe(h1) | prefilter.Probe(h2) | prefilter.Probe(h3) |
              prefilter.Probe(h4)) {
            break;
          }
          p += 4;
          h = h4;
        }
        if (++p >= stop) break;
        h = roller_.Roll(h, std::byte{d[p - 1]}, std::byte{d[p - 1 + b]});
      }
      if (block == kNoBlock) break;
      if (lit < p) Append(pieces, Piece{lit, p - lit, 0, false});
      Append(pieces, Piece{p, b, static_cast<uint64_t>(block) * b, true});
      p += b;
      lit = p;
      prev = block;
    }

    if (last_segment) {
      const uint64_t count = sig_.block_count();
      const uint32_t tail = static_cast<uint32_t>(sig_.file_size % b);
      if (tail != 0 && n - lit >= tail) {
        auto window = data_.subspan(n - tail, tail);
        uint8_t strong[16];
        if (WeakSum(window) == sig_.weak[count - 1]) {
          StrongHash(window, {strong, sig_.strong_len});
          if (std::memcmp(strong, sig_.strong_of(count - 1).data(),
                          sig_.strong_len) == 0) {
            if (lit < n - tail) Append(pieces, Piece{lit, n - tail - lit, 0, false});
            Append(pieces, Piece{n - tail, tail, (count - 1) * b, true});
            lit = n;
          } else {
            ++false_matches;
          }
        }
      }
    }
    const uint64_t cover = last_segment ? n : std::max(lit, end);
    if (lit < cover) Append(pieces, Piece{lit, cover - lit, 0, false});
    out->false_matches = false_matches;
  }

 private:
  const BlockIndex& index_;
  const Signature& sig_;
  WeakRoller roller_;
  std::span<const std::byte> data_;
};

// Gathers the LITERAL pieces into `out`. Mostly-literal deltas copy as many
// bytes as they scan, so with several threads the copy is split into chunks
// too (it would otherwise be the serial part that caps the speed-up).
void CopyLiterals(const std::vector<Piece>& pieces,
                  std::span<const std::byte> data, std::byte* out, int threads) {
  constexpr uint64_t kChunk = uint64_t{1} << 20;
  struct Job {
    uint64_t src, dst, length;
  };
  std::vector<Job> jobs;
  uint64_t dst = 0;
  for (const Piece& p : pieces) {
    if (p.copy) continue;
    for (uint64_t off = 0; off < p.length; off += kChunk) {
      jobs.push_back({p.new_pos + off, dst + off, std::min(kChunk, p.length - off)});
    }
    dst += p.length;
  }
  auto run = [&](size_t i) {
    std::memcpy(out + jobs[i].dst, data.data() + jobs[i].src, jobs[i].length);
  };
  if (threads == 1 || jobs.size() < 4) {
    for (size_t i = 0; i < jobs.size(); ++i) run(i);
    return;
  }
  RunWithThreads(threads, [&] { tbb::parallel_for(size_t{0}, jobs.size(), run); });
}

// Cuts [from, from + n) into segments (see MatcherOptions::segments).
std::vector<uint64_t> SegmentBounds(uint64_t from, uint64_t n, uint32_t block_size,
                                    const MatcherOptions& options) {
  uint64_t segments = 1;
  if (options.segments != 0) {
    segments = std::max<uint64_t>(1, std::min(options.segments, n));
  } else if (options.threads != 1) {
    const uint64_t min_segment =
        std::max<uint64_t>(uint64_t{1} << 20, uint64_t{16} * block_size);
    segments = static_cast<uint64_t>(EffectiveThreads(options.threads)) * 4;
    segments = std::max<uint64_t>(1, std::min(segments, n / min_segment));
  }
  std::vector<uint64_t> bounds(segments + 1);
  for (uint64_t i = 0; i <= segments; ++i) {
    // floor(n * i / segments) without overflowing n * i.
    bounds[i] = from + n / segments * i + n % segments * i / segments;
  }
  return bounds;
}

}  // namespace

Result<Delta> ComputeDelta(const Signature& sig,
                           std::span<const std::byte> new_data, int threads) {
  return ComputeDelta(sig, new_data, MatcherOptions{threads, 0});
}

Result<Delta> ComputeDelta(const Signature& sig,
                           std::span<const std::byte> new_data,
                           const MatcherOptions& options) {
  Delta delta;
  RETURN_IF_ERROR(ComputeDeltaInto(sig, new_data, options, &delta));
  return delta;
}

Status StreamDelta(const Signature& sig, std::span<const std::byte> new_data,
                   const MatcherOptions& options, const DeltaRunSink& sink,
                   DeltaStats* stats) {
  RETURN_IF_ERROR(sig.Validate());
  if (sig.block_count() >= std::numeric_limits<uint32_t>::max()) {
    return InvalidArgument("signature block count " +
                           std::to_string(sig.block_count()) +
                           " is too large (must be < 2^32)");
  }
  *stats = {};
  const uint64_t n = new_data.size();
  const BlockIndex index(sig);
  const Scanner scanner(index, new_data);
  const uint64_t window = options.window == 0 ? n : options.window;
  // Stitch: drop what an earlier segment's crossing match already covers.
  // The last run is held back: the next window's first may extend it.
  std::vector<Piece> pieces;
  uint64_t covered = 0;
  Status status = Status::Ok();
  auto run = [&] {
    for (uint64_t w0 = 0; w0 < n || (n == 0 && w0 == 0); w0 += window) {
      const uint64_t w1 = std::min(n, w0 + window);
      std::vector<uint64_t> bounds = SegmentBounds(w0, w1 - w0, sig.block_size, options);
      // A match that crossed into this window is kept as found: the scan
      // goes on from its end, as a single scan would.
      bounds[0] = std::max(bounds[0], covered);
      const size_t segments = bounds.size() - 1;
      std::vector<SegmentResult> results(segments);
      if (segments == 1) {
        scanner.Scan(bounds[0], bounds[1], &results[0]);
      } else {
        tbb::parallel_for(size_t{0}, segments, [&](size_t i) {
          scanner.Scan(bounds[i], bounds[i + 1], &results[i]);
        });
      }
      for (SegmentResult& r : results) {
        stats->false_weak_matches += r.false_matches;
        for (Piece p : r.pieces) {
          const uint64_t p_end = p.new_pos + p.length;
          if (p_end <= covered) continue;
          if (p.new_pos < covered) {
            const uint64_t skip = covered - p.new_pos;
            p.new_pos += skip;
            p.length -= skip;
            if (p.copy) p.old_offset += skip;
          }
          Append(pieces, p);
          covered = p_end;
        }
      }
      if (w1 == n) break;
      // The last run is held back (the next window's first may extend it)
      // unless it is long: an unchanged stretch of a large file is one
      // COPY, and holding it until the next change held back the
      // receiver's work on it (it costs one more op per window).
      const bool hold = !pieces.empty() && pieces.back().length < kHoldBackMax;
      if (pieces.size() > (hold ? 1u : 0u)) {
        std::optional<Piece> last;
        if (hold) {
          last = pieces.back();
          pieces.pop_back();
        }
        for (const Piece& p : pieces) (p.copy ? stats->matched_bytes : stats->literal_bytes) += p.length;
        status = sink(pieces);
        if (!status.ok()) return;
        pieces.clear();
        if (last) pieces.push_back(*last);
      }
    }
    if (covered != n) {
      status = Internal("matcher covered " + std::to_string(covered) + " of " +
                        std::to_string(n) + " bytes");
      return;
    }
    for (const Piece& p : pieces) (p.copy ? stats->matched_bytes : stats->literal_bytes) += p.length;
    if (!pieces.empty()) status = sink(pieces);
  };
  // One arena for all windows; none where a single segment is all there is.
  if (SegmentBounds(0, std::min(window, n), sig.block_size, options).size() > 2) {
    RunWithThreads(options.threads, run);
  } else {
    run();
  }
  return status;
}

Status ComputeDeltaInto(const Signature& sig,
                        std::span<const std::byte> new_data,
                        const MatcherOptions& options, Delta* out) {
  Delta& delta = *out;
  delta.ops.clear();
  delta.old_size = sig.file_size;
  delta.new_size = new_data.size();
  std::vector<Piece> pieces;
  RETURN_IF_ERROR(StreamDelta(
      sig, new_data, options,
      [&](std::span<const DeltaRun> runs) {
        pieces.insert(pieces.end(), runs.begin(), runs.end());
        return Status::Ok();
      },
      &delta.stats));
  delta.ops.reserve(pieces.size());
  for (const Piece& p : pieces) {
    delta.ops.push_back(p.copy ? DeltaOp{OpKind::kCopy, p.length, p.old_offset}
                               : DeltaOp{OpKind::kLiteral, p.length, 0});
  }
  delta.literals.resize(delta.stats.literal_bytes);
  const bool parallel = options.threads != 1 && pieces.size() > 1;
  CopyLiterals(pieces, new_data, delta.literals.data(), parallel ? options.threads : 1);
  return Status::Ok();
}

}  // namespace ferry::delta
