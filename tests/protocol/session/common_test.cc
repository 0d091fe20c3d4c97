#include "protocol/session/common.h"

#include <gtest/gtest.h>

#include "engine/delta/block_size.h"

namespace ferry::protocol {
namespace {

// Short strong sums are what keeps a signature near rsync's size on the
// wire; the whole-file hash (FileDone) covers a false match
// (ReceiverTest.AHashMismatchIsRequestedAgainAndNeverLands).
TEST(WireStrongLen, SmallFilesUseTwoBytesLikeRsync) {
  for (uint64_t size : {1ull, 700ull, 10'000ull, 100'000ull, 1'000'000ull}) {
    EXPECT_EQ(WireStrongLen(size, delta::ChooseBlockSize(size)), 2u) << size;
  }
}

TEST(WireStrongLen, GrowsWithTheNumberOfBlocksAndStaysInRange) {
  uint32_t last = 0;
  for (uint64_t size = 1; size < (uint64_t{1} << 50); size *= 3) {
    const uint32_t n = WireStrongLen(size, delta::ChooseBlockSize(size));
    EXPECT_GE(n, last) << size;
    EXPECT_GE(n, 2u);
    EXPECT_LE(n, kStrongLenMax);
    last = n;
  }
  // 2^-16 per file: 16 + 2*30 - 15 = 61 bits, less the 32 weak ones: 4 bytes.
  EXPECT_EQ(WireStrongLen(uint64_t{1} << 30, 1u << 15), 4u);
  EXPECT_EQ(WireStrongLen(uint64_t{1} << 40, 1), 8u);
}

TEST(WireBlockSize, RsyncsForSmallFilesPowersOfTwoForLargeOnes) {
  EXPECT_EQ(WireBlockSize(1), 700u);
  EXPECT_EQ(WireBlockSize(490'000), 700u);
  EXPECT_EQ(WireBlockSize(490'001), delta::ChooseBlockSize(490'001));
  EXPECT_EQ(WireBlockSize(uint64_t{1} << 30), 1u << 15);  // 16 KiB pages stay aligned
}

}  // namespace
}  // namespace ferry::protocol
