#include "engine/delta/matcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/delta/delta_codec.h"
#include "tests/engine/delta/delta_test_util.h"

namespace ferry::delta {
namespace {

using testing::Bytes;
using testing::Mutate;
using testing::RandomBytes;
using testing::RoundTrip;

Bytes Concat(std::initializer_list<std::span<const std::byte>> parts) {
  Bytes out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(MatcherTest, IdenticalFileIsOneCoalescedCopy) {
  const Bytes old_data = RandomBytes(100 * 1024 + 37, 1);  // with a tail
  Delta d = RoundTrip(old_data, old_data, {1024, 8}, {});
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0], (DeltaOp{OpKind::kCopy, old_data.size(), 0}));
  EXPECT_EQ(d.stats.literal_bytes, 0u);
  EXPECT_EQ(d.stats.false_weak_matches, 0u);
}

TEST(MatcherTest, ReorderedBlocksAreAllCopies) {
  const Bytes old_data = RandomBytes(4 * 512, 2);
  auto blk = [&](int i) { return std::span(old_data).subspan(i * 512, 512); };
  const Bytes new_data = Concat({blk(3), blk(2), blk(0), blk(1)});
  Delta d = RoundTrip(old_data, new_data, {512, 8}, {});
  EXPECT_EQ(d.stats.literal_bytes, 0u);
  ASSERT_EQ(d.ops.size(), 3u);  // 3 | 2 | 0..1 coalesced
  EXPECT_EQ(d.ops[2], (DeltaOp{OpKind::kCopy, 1024, 0}));
}

TEST(MatcherTest, InsertInTheMiddleCostsOnlyTheInsertedBytes) {
  const Bytes old_data = RandomBytes(64 * 1024, 3);
  const Bytes ins = RandomBytes(100, 4);
  const Bytes new_data = Concat({std::span(old_data).first(32 * 1024), ins,
                                 std::span(old_data).subspan(32 * 1024)});
  Delta d = RoundTrip(old_data, new_data, {1024, 8}, {});
  EXPECT_EQ(d.stats.literal_bytes, 100u);
  EXPECT_EQ(d.ops.size(), 3u);
}

TEST(MatcherTest, TailBlockMatchesAtTheEndOfNewData) {
  const Bytes old_data = RandomBytes(1000 + 37, 5);  // tail of 37 bytes
  const Bytes prefix = RandomBytes(10, 6);
  const Bytes new_data = Concat({prefix, old_data});
  Delta d = RoundTrip(old_data, new_data, {100, 8}, {});
  EXPECT_EQ(d.stats.literal_bytes, 10u);
  ASSERT_EQ(d.ops.size(), 2u);
  EXPECT_EQ(d.ops[1], (DeltaOp{OpKind::kCopy, 1037, 0}));
}

TEST(MatcherTest, MatchCrossingSegmentBoundariesIsFound) {
  const Bytes old_data = RandomBytes(64 * 1024, 7);
  // 7 segments: boundaries fall inside blocks; every block still matches.
  for (uint64_t segments : {2u, 7u, 64u, 1000u}) {
    Delta d = RoundTrip(old_data, old_data, {1024, 8}, {4, segments});
    EXPECT_EQ(d.stats.literal_bytes, 0u) << segments;
    EXPECT_EQ(d.ops.size(), 1u) << segments;
  }
  // Shifted by one byte: the matches start at 1 + k * 1024 and cross every
  // boundary of 16 segments of 4 KiB.
  const Bytes shifted = Concat({RandomBytes(1, 8), old_data});
  Delta d = RoundTrip(old_data, shifted, {1024, 8}, {2, 16});
  EXPECT_EQ(d.stats.literal_bytes, 1u);
}

// patch(old, delta(sig(old), new)) == new over random edits, inserts, deletes,
// moves and duplications; 1 thread, and N threads with forced segmentations
// (including segments smaller than a block).
TEST(MatcherTest, PropertyRoundTripOfRandomMutations) {
  std::mt19937_64 rng(42);
  const uint32_t block_sizes[] = {1, 3, 16, 64, 700, 2048};
  for (int iter = 0; iter < 150; ++iter) {
    const size_t size = rng() % 3 == 0 ? rng() % 2000 : rng() % (200 * 1024);
    Bytes old_data = RandomBytes(size, rng());
    if (iter % 5 == 0) {  // low-entropy data: many equal blocks
      for (auto& b : old_data) b = static_cast<std::byte>(static_cast<uint8_t>(b) % 3);
    }
    const Bytes new_data = Mutate(old_data, rng, 1 + rng() % 20, 1 + rng() % 5000);
    uint32_t block = block_sizes[rng() % std::size(block_sizes)];
    if (block == 1 && size > 20000) block = 16;  // keep the test fast
    const SignatureParams params{block, static_cast<uint32_t>(1 + rng() % 16)};
    SCOPED_TRACE("iteration " + std::to_string(iter));
    Delta serial = RoundTrip(old_data, new_data, params, {1, 0});
    Delta parallel = RoundTrip(old_data, new_data, params, {3, 1 + rng() % 40});
    Delta automatic = RoundTrip(old_data, new_data, params, {0, 0});
    (void)serial;
    (void)parallel;
    (void)automatic;
    if (HasFailure()) return;
  }
}

TEST(MatcherTest, ParallelDeltaIsWithinOnePercentOfSerial) {
  std::mt19937_64 rng(9);
  const Bytes old_data = RandomBytes(24 << 20, 10);
  const Bytes new_data = Mutate(old_data, rng, 300, 3000);
  const SignatureParams params = DefaultSignatureParams(old_data.size());
  Delta serial = RoundTrip(old_data, new_data, params, {1, 0});
  auto serial_wire = EncodeDelta(serial, 1);
  ASSERT_TRUE(serial_wire.ok());
  for (int threads : {2, 4, 8}) {
    Delta parallel = RoundTrip(old_data, new_data, params, {threads, 0});
    auto parallel_wire = EncodeDelta(parallel, 1);
    ASSERT_TRUE(parallel_wire.ok());
    EXPECT_LE(parallel.stats.literal_bytes,
              serial.stats.literal_bytes + serial.stats.literal_bytes / 100)
        << threads;
    EXPECT_LE(parallel_wire->size(), serial_wire->size() * 101 / 100) << threads;
  }
}

// --- Degenerate inputs, each big enough that a quadratic matcher would not
// --- finish: with 64-byte blocks, 16 MiB is 2^18 identical blocks, so walking
// --- a chain of equal weak sums per match would be ~7 * 10^10 steps. The
// --- default geometry (64 MiB, 8 KiB blocks) is run too.

constexpr size_t kBig = 64 << 20;

class MatcherDegenerateLargeTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  // Parameter 0 stands for the default geometry of a 64 MiB file.
  size_t Size() const { return GetParam() == 0 ? kBig : kBig / 4; }
  SignatureParams Params() const {
    return GetParam() == 0 ? DefaultSignatureParams(kBig)
                           : SignatureParams{GetParam(), 8};
  }
};

TEST_P(MatcherDegenerateLargeTest, AllZeroFiles) {
  const Bytes zeros(Size());
  Delta d = RoundTrip(zeros, zeros, Params(), {1, 0});
  ASSERT_EQ(d.ops.size(), 1u);  // prefers block i + 1: one coalesced COPY
  EXPECT_EQ(d.stats.literal_bytes, 0u);
  // Zeros with a byte set every 100 KiB, and the length changed.
  Bytes holes(Size() + 12345);
  for (size_t i = 0; i < holes.size(); i += 100 * 1024) holes[i] = std::byte{1};
  Delta h = RoundTrip(zeros, holes, Params(), {2, 0});
  EXPECT_LT(h.stats.literal_bytes, holes.size() / 8);
}

// rsync issue #217: long chains of equal weak sums made lookups quadratic.
TEST_P(MatcherDegenerateLargeTest, OneRepeatedBlockRsyncIssue217) {
  const SignatureParams params = Params();
  const Bytes block = RandomBytes(params.block_size, 11);
  Bytes old_data;
  old_data.reserve(Size());
  while (old_data.size() < Size()) old_data.insert(old_data.end(), block.begin(), block.end());
  // Same content with a byte inserted in 16 places: every window either
  // matches one of the identical blocks or misses.
  std::mt19937_64 rng(12);
  std::vector<size_t> cuts;
  for (int i = 0; i < 16; ++i) cuts.push_back(rng() % old_data.size());
  std::sort(cuts.begin(), cuts.end());
  Bytes new_data;
  new_data.reserve(old_data.size() + cuts.size());
  size_t from = 0;
  for (size_t cut : cuts) {
    new_data.insert(new_data.end(), old_data.begin() + from, old_data.begin() + cut);
    new_data.push_back(std::byte{7});
    from = cut;
  }
  new_data.insert(new_data.end(), old_data.begin() + from, old_data.end());
  Delta d = RoundTrip(old_data, new_data, params, {1, 0});
  EXPECT_LT(d.stats.literal_bytes, 16u * params.block_size * 2);
  Delta p = RoundTrip(old_data, new_data, params, {2, 0});
  EXPECT_LT(p.stats.literal_bytes, 16u * params.block_size * 2);
}

INSTANTIATE_TEST_SUITE_P(Geometry, MatcherDegenerateLargeTest, ::testing::Values(0u, 64u));

TEST(MatcherDegenerateTest, NothingMatchesInALargeFile) {
  const Bytes old_data = RandomBytes(kBig / 4, 13);
  const Bytes new_data = RandomBytes(kBig / 4, 14);
  Delta d = RoundTrip(old_data, new_data,
                      DefaultSignatureParams(old_data.size()), {1, 0});
  EXPECT_EQ(d.stats.matched_bytes, 0u);
  EXPECT_EQ(d.ops.size(), 1u);
}

TEST(MatcherDegenerateTest, FilesSmallerThanABlock) {
  const Bytes old_data = RandomBytes(100, 15);
  const SignatureParams params = DefaultSignatureParams(100);  // block 1024
  Delta same = RoundTrip(old_data, old_data, params, {});
  EXPECT_EQ(same.ops.size(), 1u);
  EXPECT_EQ(same.stats.matched_bytes, 100u);
  // The old file (all tail) is found at the end of a longer new file.
  const Bytes longer = Concat({RandomBytes(5, 16), old_data});
  EXPECT_EQ(RoundTrip(old_data, longer, params, {}).stats.matched_bytes, 100u);
  // New data shorter than the old tail: all literal.
  const Bytes shorter(old_data.begin(), old_data.begin() + 50);
  EXPECT_EQ(RoundTrip(old_data, shorter, params, {}).stats.literal_bytes, 50u);
  // Both smaller than the block and unrelated.
  EXPECT_EQ(RoundTrip(old_data, RandomBytes(30, 17), params, {4, 3})
                .stats.literal_bytes,
            30u);
}

TEST(MatcherDegenerateTest, EmptyFiles) {
  const Bytes empty;
  const Bytes some = RandomBytes(5000, 18);
  const SignatureParams params{700, 8};
  Delta both = RoundTrip(empty, empty, params, {});
  EXPECT_TRUE(both.ops.empty());
  EXPECT_EQ(both.new_size, 0u);
  Delta from_empty = RoundTrip(empty, some, params, {2, 4});
  EXPECT_EQ(from_empty.stats.literal_bytes, 5000u);
  Delta to_empty = RoundTrip(some, empty, params, {2, 4});
  EXPECT_TRUE(to_empty.ops.empty());
  EXPECT_EQ(to_empty.old_size, 5000u);
}

// --- StreamDelta: the runs a sender puts on the wire window by window.

// Collects the runs of every call (checked to cover new_data contiguously),
// patches old_data with them and expects new_data back. Returns the delta's
// literal bytes, or max on failure.
uint64_t StreamAndPatch(const Bytes& old_data, const Bytes& new_data, SignatureParams params,
                        MatcherOptions options, size_t* calls) {
  auto sig = ComputeSignature(old_data, params, 1);
  EXPECT_TRUE(sig.ok());
  if (!sig.ok()) return UINT64_MAX;
  Delta d;
  d.old_size = old_data.size();
  d.new_size = new_data.size();
  uint64_t pos = 0;
  *calls = 0;
  Status s = StreamDelta(
      *sig, new_data, options,
      [&](std::span<const DeltaRun> runs) {
        ++*calls;
        EXPECT_FALSE(runs.empty());
        for (const DeltaRun& r : runs) {
          EXPECT_EQ(r.new_pos, pos);
          EXPECT_GT(r.length, 0u);
          pos += r.length;
          if (r.copy) {
            d.ops.push_back(DeltaOp{OpKind::kCopy, r.length, r.old_offset});
          } else {
            d.ops.push_back(DeltaOp{OpKind::kLiteral, r.length, 0});
            d.literals.insert(d.literals.end(), new_data.begin() + static_cast<long>(r.new_pos),
                              new_data.begin() + static_cast<long>(r.new_pos + r.length));
          }
        }
        return Status::Ok();
      },
      &d.stats);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(pos, new_data.size());
  EXPECT_EQ(d.stats.literal_bytes, d.literals.size());
  EXPECT_EQ(d.stats.literal_bytes + d.stats.matched_bytes, new_data.size());
  EXPECT_TRUE(d.Validate().ok()) << d.Validate().ToString();
  Bytes out;
  Status p = ApplyDelta(old_data, d, [&](std::span<const std::byte> b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::Ok();
  }, nullptr);
  EXPECT_TRUE(p.ok()) << p.ToString();
  EXPECT_TRUE(out == new_data);
  return ::testing::Test::HasFailure() ? UINT64_MAX : d.stats.literal_bytes;
}

TEST(StreamDeltaTest, EveryWindowGivesAValidDeltaAsSmallAsOneScan) {
  std::mt19937_64 rng(77);
  for (int iter = 0; iter < 30; ++iter) {
    const size_t size = 1 + rng() % (100 * 1024);
    const Bytes old_data = RandomBytes(size, rng());
    const Bytes new_data = Mutate(old_data, rng, 1 + rng() % 30, 1 + rng() % 4000);
    const SignatureParams params{static_cast<uint32_t>(16 + rng() % 2000), 8};
    size_t calls = 0;
    const uint64_t one_scan = StreamAndPatch(old_data, new_data, params, {1, 0, 0}, &calls);
    EXPECT_LE(calls, 1u);
    // Windows smaller than a block, around a block, and many blocks; one
    // thread, and threads with forced segments inside each window.
    for (uint64_t window : {uint64_t{1}, uint64_t{params.block_size - 1},
                            uint64_t{params.block_size + 3}, uint64_t{65536}}) {
      for (MatcherOptions o : {MatcherOptions{1, 0, window}, MatcherOptions{3, 5, window},
                               MatcherOptions{0, 0, window}}) {
        SCOPED_TRACE("iteration " + std::to_string(iter) + " window " +
                     std::to_string(window) + " threads " + std::to_string(o.threads));
        const uint64_t literal = StreamAndPatch(old_data, new_data, params, o, &calls);
        EXPECT_LE(literal, one_scan + one_scan / 100 + params.block_size) << "one scan: " << one_scan;
        if (HasFailure()) return;
      }
    }
  }
}

TEST(StreamDeltaTest, RunsReachTheSinkBeforeTheScanEnds) {
  const Bytes old_data = RandomBytes(1 << 20, 31);
  std::mt19937_64 rng(32);
  const Bytes new_data = Mutate(old_data, rng, 50, 2000);
  size_t calls = 0;
  const uint64_t windowed = StreamAndPatch(old_data, new_data, {1024, 8}, {2, 0, 64 * 1024}, &calls);
  // About one call per window of 64 KiB (a window whose runs all merge
  // into the held-back one passes nothing).
  EXPECT_GE(calls, 8u);
  const uint64_t whole = StreamAndPatch(old_data, new_data, {1024, 8}, {2, 0, 0}, &calls);
  EXPECT_EQ(calls, 1u);
  EXPECT_LE(windowed, whole + whole / 100);
}

TEST(StreamDeltaTest, ALongUnchangedStretchGoesOutWindowByWindow) {
  // A large file changed only near its end: one long COPY. The receiver
  // applies what it has, so its runs must not wait for the change.
  const Bytes old_data = RandomBytes(8 << 20, 36);
  Bytes new_data = old_data;
  new_data[new_data.size() - 1000] = std::byte{static_cast<unsigned char>(
      std::to_integer<unsigned>(new_data[new_data.size() - 1000]) ^ 0x5a)};
  size_t calls = 0;
  const uint64_t windowed =
      StreamAndPatch(old_data, new_data, {4096, 8}, {2, 0, 1 << 20}, &calls);
  EXPECT_GE(calls, 7u);  // about one per window of 1 MiB
  size_t whole_calls = 0;
  const uint64_t whole = StreamAndPatch(old_data, new_data, {4096, 8}, {2, 0, 0}, &whole_calls);
  EXPECT_EQ(whole_calls, 1u);
  EXPECT_EQ(windowed, whole);
}

TEST(StreamDeltaTest, ASinkErrorStopsTheScan) {
  const Bytes old_data = RandomBytes(1 << 20, 33);
  const Bytes new_data = RandomBytes(1 << 20, 34);  // all literal
  auto sig = ComputeSignature(old_data, {1024, 8}, 1);
  ASSERT_TRUE(sig.ok());
  size_t calls = 0;
  DeltaStats stats;
  Status s = StreamDelta(
      *sig, new_data, {1, 0, 4096},
      [&](std::span<const DeltaRun>) {
        ++calls;
        return Status(ErrorCode::kIo, "peer went away");
      },
      &stats);
  EXPECT_EQ(s.code(), ErrorCode::kIo);
  EXPECT_EQ(calls, 1u);
}

TEST(StreamDeltaTest, AnInvalidSignatureIsRefusedBeforeTheSink) {
  auto sig = ComputeSignature(RandomBytes(5000, 35), {512, 8}, 1);
  ASSERT_TRUE(sig.ok());
  sig->weak.pop_back();  // fewer sums than blocks
  size_t calls = 0;
  DeltaStats stats;
  Status s = StreamDelta(
      *sig, RandomBytes(5000, 36), {1, 0, 1024},
      [&](std::span<const DeltaRun>) {
        ++calls;
        return Status::Ok();
      },
      &stats);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(calls, 0u);
}

}  // namespace
}  // namespace ferry::delta
