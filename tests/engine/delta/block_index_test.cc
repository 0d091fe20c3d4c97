#include "engine/delta/block_index.h"

#include <gtest/gtest.h>

#include "tests/engine/delta/delta_test_util.h"

namespace ferry::delta {
namespace {

using testing::Bytes;
using testing::RandomBytes;

// Old file: blocks A B A A C + a 10-byte tail, 64-byte blocks.
struct Fixture {
  Bytes a = RandomBytes(64, 1), b = RandomBytes(64, 2), c = RandomBytes(64, 3);
  Bytes old_data;
  Signature sig;
  Fixture() {
    for (const Bytes* blk : {&a, &b, &a, &a, &c}) {
      old_data.insert(old_data.end(), blk->begin(), blk->end());
    }
    Bytes tail = RandomBytes(10, 4);
    old_data.insert(old_data.end(), tail.begin(), tail.end());
    sig = *ComputeSignature(old_data, {64, 8}, 1);
  }
};

TEST(BlockIndexTest, FindsBlocksAndPrefersTheRequestedDuplicate) {
  Fixture f;
  BlockIndex index(f.sig);
  EXPECT_EQ(index.indexed_blocks(), 5u);  // the tail is not indexed
  uint64_t false_matches = 0;
  const uint32_t wa = WeakSum(f.a);
  ASSERT_TRUE(index.MaybeContains(wa));
  EXPECT_EQ(index.Find(wa, f.a, kNoBlock, &false_matches), 0);  // lowest
  EXPECT_EQ(index.Find(wa, f.a, 2, &false_matches), 2);         // preferred
  EXPECT_EQ(index.Find(wa, f.a, 3, &false_matches), 3);
  EXPECT_EQ(index.Find(wa, f.a, 4, &false_matches), 0);  // 4 is C, not A
  EXPECT_EQ(index.Find(wa, f.a, 99, &false_matches), 0);  // out of range
  EXPECT_EQ(index.Find(WeakSum(f.b), f.b, kNoBlock, &false_matches), 1);
  EXPECT_EQ(index.Find(WeakSum(f.c), f.c, 1, &false_matches), 4);
  EXPECT_EQ(false_matches, 0u);
}

TEST(BlockIndexTest, WeakHitWithoutStrongMatchCountsAsFalseMatch) {
  Fixture f;
  BlockIndex index(f.sig);
  uint64_t false_matches = 0;
  const Bytes other = RandomBytes(64, 9);
  // Pretend `other` had A's weak sum: the strong hash must reject it.
  EXPECT_EQ(index.Find(WeakSum(f.a), other, kNoBlock, &false_matches), kNoBlock);
  EXPECT_EQ(index.Find(WeakSum(f.a), other, 0, &false_matches), kNoBlock);
  EXPECT_EQ(false_matches, 2u);
  // A weak sum no block has is not a false match, just a miss.
  EXPECT_EQ(index.Find(WeakSum(other), other, kNoBlock, &false_matches), kNoBlock);
  EXPECT_EQ(false_matches, 2u);
}

TEST(BlockIndexTest, PrefilterRejectsMostAbsentSums) {
  const Bytes old_data = RandomBytes(1 << 20, 5);
  const Signature sig = *ComputeSignature(old_data, {1024, 8}, 1);
  BlockIndex index(sig);
  for (size_t i = 0; i < sig.block_count(); ++i) EXPECT_TRUE(index.MaybeContains(sig.weak[i]));
  std::mt19937_64 rng(6);
  int maybe = 0;
  for (int i = 0; i < 100000; ++i) maybe += index.MaybeContains(static_cast<uint32_t>(rng()));
  EXPECT_LT(maybe, 100000 / 32);  // sized for ~1/64 occupancy
}

TEST(BlockIndexTest, EmptyAndTailOnlySignatures) {
  const Signature empty = *ComputeSignature({}, {64, 8}, 1);
  BlockIndex e(empty);
  EXPECT_EQ(e.indexed_blocks(), 0u);
  const Bytes small = RandomBytes(10, 7);
  const Signature tail_only = *ComputeSignature(small, {64, 8}, 1);
  BlockIndex t(tail_only);
  EXPECT_EQ(t.indexed_blocks(), 0u);
  uint64_t false_matches = 0;
  EXPECT_EQ(t.Find(tail_only.weak[0], small, kNoBlock, &false_matches), kNoBlock);
  EXPECT_EQ(false_matches, 0u);
}

}  // namespace
}  // namespace ferry::delta
