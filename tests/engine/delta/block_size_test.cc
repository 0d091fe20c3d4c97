#include "engine/delta/block_size.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

namespace ferry::delta {
namespace {

// Reference: the power of two nearest to sqrt(size) on a log scale, found by
// comparing log distances in long double (ties go up), then clamped.
uint32_t ReferenceBlockSize(uint64_t size) {
  if (size == 0) return 1024;
  const long double half_log = std::log2(static_cast<long double>(size)) / 2;
  int best = 0;
  for (int k = 1; k < 40; ++k) {
    if (std::fabs(k - half_log) <= std::fabs(best - half_log)) best = k;
  }
  if (best < 10) best = 10;
  if (best > 17) best = 17;
  return uint32_t{1} << best;
}

TEST(BlockSizeTest, GoldenValuesByHand) {
  EXPECT_EQ(ChooseBlockSize(0), 1024u);
  EXPECT_EQ(ChooseBlockSize(1), 1024u);
  EXPECT_EQ(ChooseBlockSize(700 * 700), 1024u);             // sqrt 700 -> min
  EXPECT_EQ(ChooseBlockSize((1 << 21) - 1), 1024u);         // sqrt 1448.2: log2 10.49
  EXPECT_EQ(ChooseBlockSize(1 << 21), 2048u);               // sqrt 1448.2: log2 10.5 -> up
  EXPECT_EQ(ChooseBlockSize((1 << 22) - 1), 2048u);         // sqrt 2047.99
  EXPECT_EQ(ChooseBlockSize(1 << 22), 2048u);               // sqrt 2048 exactly
  EXPECT_EQ(ChooseBlockSize(64 << 20), 8192u);              // 64 MiB: sqrt 8192
  EXPECT_EQ(ChooseBlockSize(100 << 20), 8192u);             // sqrt 10240: log2 13.32
  EXPECT_EQ(ChooseBlockSize(1000000000), 32768u);           // sqrt 31622.8: log2 14.95
  EXPECT_EQ(ChooseBlockSize(uint64_t{1} << 33), 131072u);   // sqrt 92682: log2 16.5 -> up
  EXPECT_EQ(ChooseBlockSize((uint64_t{1} << 33) - 1), 65536u);
  EXPECT_EQ(ChooseBlockSize(uint64_t{1} << 34), 131072u);   // 16 GiB: exactly max
  EXPECT_EQ(ChooseBlockSize(uint64_t{1} << 40), 131072u);   // clamped
  EXPECT_EQ(ChooseBlockSize(UINT64_MAX), 131072u);
}

TEST(BlockSizeTest, MatchesReferenceOnRandomSizes) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t size = rng() >> (rng() % 64);
    ASSERT_EQ(ChooseBlockSize(size), ReferenceBlockSize(size)) << size;
  }
  for (int e = 1; e < 63; ++e) {  // both sides of every power of two
    for (int64_t d = -2; d <= 2; ++d) {
      const uint64_t size = (uint64_t{1} << e) + d;
      ASSERT_EQ(ChooseBlockSize(size), ReferenceBlockSize(size)) << size;
    }
  }
}

TEST(BlockSizeTest, IsAPowerOfTwoWithinSqrt2OfTheSquareRoot) {
  for (uint64_t s = 1 << 20; s < (uint64_t{1} << 34); s = s * 3 / 2 + 1) {
    const uint32_t b = ChooseBlockSize(s);
    EXPECT_EQ(b & (b - 1), 0u) << s;
    const double r = b / std::sqrt(static_cast<double>(s));
    EXPECT_GE(r, 0.7071) << s;
    EXPECT_LE(r, 1.4143) << s;
  }
}

TEST(StrongLenTest, GoldenValues) {
  EXPECT_EQ(ChooseStrongLen(0), 8u);              // (0 + 40 + 7) / 8 = 5 -> 8
  EXPECT_EQ(ChooseStrongLen(1 << 20), 8u);        // 21 bits: (21 + 47) / 8 = 8
  EXPECT_EQ(ChooseStrongLen(uint64_t{1} << 30), 9u);   // 31 bits: 78 / 8 = 9
  EXPECT_EQ(ChooseStrongLen(uint64_t{1} << 40), 11u);  // 41 bits: 88 / 8 = 11
  EXPECT_EQ(ChooseStrongLen(UINT64_MAX), 13u);         // 64 bits: 111 / 8 = 13
}

}  // namespace
}  // namespace ferry::delta
