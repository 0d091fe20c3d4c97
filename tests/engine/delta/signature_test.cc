#include "engine/delta/signature.h"

#include <gtest/gtest.h>

#include "engine/delta/block_size.h"
#include "engine/delta/matcher.h"
#include "engine/delta/rolling_checksum.h"
#include "tests/engine/delta/delta_test_util.h"

namespace ferry::delta {
namespace {

using testing::Bytes;
using testing::RandomBytes;

// XXH3-128 in canonical big-endian order: high 64 bits first.
std::vector<uint8_t> ExpectedStrong(std::span<const std::byte> block, size_t len) {
  const Hash128 h = HashBytes(block);
  std::vector<uint8_t> out;
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(h.hi >> (8 * i)));
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(h.lo >> (8 * i)));
  out.resize(len);
  return out;
}

TEST(SignatureTest, BlocksAndTailCoverTheFile) {
  const uint32_t b = 64;
  for (size_t size : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65},
                      size_t{192}, size_t{1000}}) {
    const Bytes data = RandomBytes(size, size);
    auto sig = ComputeSignature(data, {b, 12}, 1);
    ASSERT_TRUE(sig.ok()) << sig.status().ToString();
    EXPECT_EQ(sig->file_size, size);
    EXPECT_EQ(sig->block_count(), (size + b - 1) / b);
    EXPECT_TRUE(sig->Validate().ok());
    for (size_t i = 0; i < sig->block_count(); ++i) {
      const size_t len = std::min<size_t>(b, size - i * b);
      EXPECT_EQ(sig->block_length(i), len);
      auto block = std::span(data).subspan(i * b, len);
      EXPECT_EQ(sig->weak[i], WeakSum(block));
      auto strong = sig->strong_of(i);
      EXPECT_EQ(std::vector<uint8_t>(strong.begin(), strong.end()),
                ExpectedStrong(block, 12));
    }
  }
}

TEST(SignatureTest, ParallelEqualsSerial) {
  const Bytes data = RandomBytes(5 * 1024 * 1024 + 123, 1);
  auto one = ComputeSignature(data, {700, 16}, 1);
  auto four = ComputeSignature(data, {700, 16}, 4);
  auto dflt = ComputeSignature(data, {700, 16}, 0);
  ASSERT_TRUE(one.ok() && four.ok() && dflt.ok());
  EXPECT_EQ(one->weak, four->weak);
  EXPECT_EQ(one->strong, four->strong);
  EXPECT_EQ(one->weak, dflt->weak);
}

TEST(SignatureTest, DefaultParamsFollowTheRules) {
  const SignatureParams p = DefaultSignatureParams(64 << 20);
  EXPECT_EQ(p.block_size, ChooseBlockSize(64 << 20));
  EXPECT_EQ(p.strong_len, ChooseStrongLen(64 << 20));
}

TEST(SignatureTest, RejectsZeroBlockSizeNamingTheField) {
  auto sig = ComputeSignature(RandomBytes(10, 1), {0, 8}, 1);
  ASSERT_FALSE(sig.ok());
  EXPECT_EQ(sig.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(sig.status().message().find("block_size"), std::string::npos)
      << sig.status().ToString();
}

TEST(SignatureTest, RejectsBadStrongLenNamingTheField) {
  for (uint32_t len : {0u, 17u}) {
    auto sig = ComputeSignature(RandomBytes(10, 1), {64, len}, 1);
    ASSERT_FALSE(sig.ok());
    EXPECT_NE(sig.status().message().find("strong_len"), std::string::npos);
  }
}

TEST(SignatureTest, BlockCountNotMatchingFileSizeIsRejected) {
  auto sig = ComputeSignature(RandomBytes(1000, 1), {100, 8}, 1);
  ASSERT_TRUE(sig.ok());
  Signature bad = *sig;
  bad.file_size = 1101;  // needs 12 blocks, has 10
  Status s = bad.Validate();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("block count 10"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("file_size 1101"), std::string::npos) << s.ToString();
  // The matcher refuses it too, with the same message.
  auto delta = ComputeDelta(bad, RandomBytes(100, 2), 1);
  ASSERT_FALSE(delta.ok());
  EXPECT_NE(delta.status().message().find("block count"), std::string::npos);

  Signature zero = *sig;
  zero.block_size = 0;
  EXPECT_NE(zero.Validate().message().find("block_size is 0"), std::string::npos);

  Signature short_strong = *sig;
  short_strong.strong.pop_back();
  EXPECT_NE(short_strong.Validate().message().find("strong hash bytes"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::delta
