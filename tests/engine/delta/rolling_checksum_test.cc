#include "engine/delta/rolling_checksum.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tests/engine/delta/delta_test_util.h"

namespace ferry::delta {
namespace {

using testing::Bytes;
using testing::FromString;
using testing::RandomBytes;

// Reference: the definition written as a sum of powers (not Horner's rule),
// powers by repeated multiplication, in 64-bit arithmetic reduced mod 2^32.
uint32_t ReferenceWeak(std::span<const std::byte> w) {
  const uint64_t m = 0x5BD1E995, k = 0x5F, mod = uint64_t{1} << 32;
  uint64_t sum = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    uint64_t power = 1;
    for (size_t e = 0; e < w.size() - 1 - i; ++e) power = power * m % mod;
    sum = (sum + (static_cast<uint64_t>(w[i]) + k) * power) % mod;
  }
  return static_cast<uint32_t>(sum);
}

TEST(RollingChecksumTest, GoldenValuesByHand) {
  EXPECT_EQ(WeakSum({}), 0u);
  // One zero byte: (0 + 0x5F) * M^0.
  Bytes zero(1);
  EXPECT_EQ(WeakSum(zero), 0x5Fu);
  // {1, 2}: (1 + 95) * M + (2 + 95) = 96 * 1540483477 + 97
  //       = 147886413889 = 34 * 2^32 + 1857525825.
  Bytes one_two = {std::byte{1}, std::byte{2}};
  EXPECT_EQ(WeakSum(one_two), 1857525825u);
  // "abc" = 192 M^2 + 193 M + 194 mod 2^32, evaluated independently in Python.
  EXPECT_EQ(WeakSum(FromString("abc")), 0x892DA4D7u);
  EXPECT_EQ(WeakSum(Bytes(3)), 309420881u);
}

TEST(RollingChecksumTest, MatchesReferenceForEveryLengthUpTo100) {
  const Bytes data = RandomBytes(100, 7);
  for (size_t n = 0; n <= data.size(); ++n) {
    auto w = std::span(data).first(n);
    EXPECT_EQ(WeakSum(w), ReferenceWeak(w)) << "length " << n;
  }
  const Bytes ff(37, std::byte{0xFF});
  EXPECT_EQ(WeakSum(ff), ReferenceWeak(ff));
}

// Windows of 64 bytes and more take the lane routes (AVX2 or portable):
// every length around the 64-byte chunk and 8-byte group edges, and a large
// window with every byte value, must give the definition's value on both.
TEST(RollingChecksumTest, LaneRoutesMatchReference) {
  const Bytes data = RandomBytes(4200, 19);
  for (size_t n = 56; n <= 300; ++n) {
    auto w = std::span(data).first(n);
    const uint32_t want = ReferenceWeak(w);
    ASSERT_EQ(WeakSum(w), want) << "length " << n;
    ASSERT_EQ(WeakSumPortable(w), want) << "length " << n;
  }
  for (size_t n : {700u, 1031u, 4096u, 4200u}) {
    auto w = std::span(data).first(n);
    const uint32_t want = ReferenceWeak(w);
    EXPECT_EQ(WeakSum(w), want) << "length " << n;
    EXPECT_EQ(WeakSumPortable(w), want) << "length " << n;
  }
  // Offsets that are not aligned to anything.
  for (size_t off = 1; off < 40; off += 3) {
    auto w = std::span(data).subspan(off, 777);
    EXPECT_EQ(WeakSum(w), ReferenceWeak(w)) << "offset " << off;
  }
  const Bytes ff(4099, std::byte{0xFF});
  EXPECT_EQ(WeakSum(ff), ReferenceWeak(ff));
  EXPECT_EQ(WeakSumPortable(ff), ReferenceWeak(ff));
}

// Windows of 256 bytes and more take the 256-lane route where the CPU has
// AVX-512 (the AVX2 or portable route elsewhere): every length around its
// 256-byte chunk edge and with every tail length, at unaligned offsets.
TEST(RollingChecksumTest, WideLaneRouteMatchesReference) {
  const Bytes data = RandomBytes(20000, 23);
  for (size_t n = 240; n <= 1100; ++n) {
    auto w = std::span(data).subspan(n % 13, n);
    ASSERT_EQ(WeakSum(w), ReferenceWeak(w)) << "length " << n;
  }
  for (size_t n : {8192u, 10240u, 16383u, 19000u}) {
    auto w = std::span(data).subspan(5, n);
    EXPECT_EQ(WeakSum(w), ReferenceWeak(w)) << "length " << n;
  }
  const Bytes ff(4099, std::byte{0xFF});
  EXPECT_EQ(WeakSum(ff), ReferenceWeak(ff));
}

TEST(RollingChecksumTest, PowerMatchesRepeatedMultiplication) {
  uint32_t p = 1;
  for (uint64_t e = 0; e < 200; ++e) {
    EXPECT_EQ(WeakPower(e), p) << e;
    p *= kWeakMultiplier;
  }
}

TEST(RollingChecksumTest, RollingEqualsRecomputingAtEveryPosition) {
  const Bytes data = RandomBytes(5000, 11);
  for (uint32_t window : {1u, 2u, 7u, 8u, 9u, 64u, 700u, 1031u}) {
    WeakRoller roller(window);
    uint32_t h = WeakSum(std::span(data).first(window));
    for (size_t p = 1; p + window <= data.size(); ++p) {
      h = roller.Roll(h, data[p - 1], data[p - 1 + window]);
      ASSERT_EQ(h, WeakSum(std::span(data).subspan(p, window)))
          << "window " << window << " position " << p;
    }
  }
}

TEST(RollingChecksumTest, ZeroRunsHashDependsOnLength) {
  EXPECT_NE(WeakSum(Bytes(700)), WeakSum(Bytes(701)));
}

// The high bits used for indexing must spread text-like input: 64 Ki windows
// of word soup over 4096 buckets leave (almost) none empty when the mixing is
// good; an additive checksum would crowd a few hundred buckets.
TEST(RollingChecksumTest, IndexBitsSpreadTextWindows) {
  std::string text;
  const char* words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ",
                         "lazy ", "dog ", "and ", "runs\n"};
  std::mt19937_64 rng(3);
  while (text.size() < 70000) text += words[rng() % 10];
  const Bytes data = FromString(text);
  std::vector<int> buckets(4096);
  WeakRoller roller(64);
  uint32_t h = WeakSum(std::span(data).first(64));
  for (size_t p = 1; p + 64 <= 65536 + 64; ++p) {
    ++buckets[WeakIndex(h, 12)];
    h = roller.Roll(h, data[p - 1], data[p - 1 + 64]);
  }
  int used = 0;
  for (int b : buckets) used += b != 0;
  EXPECT_GT(used, 4096 * 9 / 10);
}

}  // namespace
}  // namespace ferry::delta
