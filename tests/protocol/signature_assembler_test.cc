#include "protocol/signature_assembler.h"

#include <gtest/gtest.h>

namespace ferry::protocol {
namespace {

SignatureBlocks Blocks(uint64_t first, size_t n, uint32_t len = 8) {
  SignatureBlocks b{0, first, len, {}, {}};
  for (size_t i = 0; i < n; ++i) b.weak.push_back(static_cast<uint32_t>(first + i));
  b.strong.assign(n * len, static_cast<uint8_t>(first));
  return b;
}

TEST(SignatureAssembler, ChunksInOrderRebuildTheSignature) {
  SignatureAssembler a(SignatureHeader{0, 2500, 1000, 8, 3});
  ASSERT_TRUE(a.Add(Blocks(0, 2)).ok());
  EXPECT_FALSE(a.complete());
  ASSERT_TRUE(a.Add(Blocks(2, 1)).ok());
  ASSERT_TRUE(a.complete());
  Result<delta::Signature> s = std::move(a).Finish();
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->weak, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(s->block_length(2), 500u);
}

TEST(SignatureAssembler, Cve2024_12084_MoreBlocksThanAnnouncedAreRefused) {
  SignatureAssembler a(SignatureHeader{0, 2500, 1000, 8, 3});
  Status s = a.Add(Blocks(0, 4));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exceed block_count 3"), std::string::npos);
}

TEST(SignatureAssembler, OutOfOrderOtherFileOrOtherLengthAreRefused) {
  SignatureAssembler a(SignatureHeader{0, 2500, 1000, 8, 3});
  EXPECT_FALSE(a.Add(Blocks(1, 1)).ok());
  SignatureBlocks other = Blocks(0, 1);
  other.file_index = 5;
  EXPECT_FALSE(a.Add(other).ok());
  EXPECT_NE(a.Add(Blocks(0, 1, 16)).message().find("strong_len 16 differs"), std::string::npos);
}

TEST(SignatureAssembler, MissingBlocksAreAnError) {
  SignatureAssembler a(SignatureHeader{0, 2500, 1000, 8, 3});
  ASSERT_TRUE(a.Add(Blocks(0, 2)).ok());
  Result<delta::Signature> s = std::move(a).Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("2 of 3 blocks"), std::string::npos);
}

}  // namespace
}  // namespace ferry::protocol
