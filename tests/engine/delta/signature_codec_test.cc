#include "engine/delta/signature_codec.h"

#include <gtest/gtest.h>

#include <array>

#include "engine/delta/wire.h"
#include "tests/engine/delta/delta_test_util.h"

namespace ferry::delta {
namespace {

using testing::Bytes;
using testing::RandomBytes;

Bytes Sealed(std::initializer_list<uint64_t> varints, size_t sum_bytes) {
  Bytes p;
  for (uint64_t v : varints) wire::PutVarint(p, v);
  p.resize(p.size() + sum_bytes);
  auto s = wire::Seal({'F', 'S', 'G', '1'}, p, 1);
  EXPECT_TRUE(s.ok());
  return *s;
}

TEST(SignatureCodecTest, RoundTrip) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{5000}, size_t{1} << 20}) {
    const Bytes data = RandomBytes(size, size);
    auto sig = ComputeSignature(data, DefaultSignatureParams(size), 1);
    ASSERT_TRUE(sig.ok());
    auto enc = EncodeSignature(*sig);
    ASSERT_TRUE(enc.ok());
    auto dec = DecodeSignature(*enc);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(dec->file_size, sig->file_size);
    EXPECT_EQ(dec->block_size, sig->block_size);
    EXPECT_EQ(dec->strong_len, sig->strong_len);
    EXPECT_EQ(dec->weak, sig->weak);
    EXPECT_EQ(dec->strong, sig->strong);
  }
}

TEST(SignatureCodecTest, RepetitiveFilesCompress) {
  const Bytes zeros(8 << 20);
  auto sig = ComputeSignature(zeros, DefaultSignatureParams(zeros.size()), 1);
  ASSERT_TRUE(sig.ok());
  auto enc = EncodeSignature(*sig);
  ASSERT_TRUE(enc.ok());
  EXPECT_LT(enc->size(), 200u);
}

TEST(SignatureCodecTest, EveryTruncationIsRejected) {
  auto sig = ComputeSignature(RandomBytes(20000, 1), {700, 8}, 1);
  ASSERT_TRUE(sig.ok());
  auto enc = EncodeSignature(*sig);
  ASSERT_TRUE(enc.ok());
  for (size_t n = 0; n < enc->size(); ++n) {
    ASSERT_FALSE(DecodeSignature(std::span(*enc).first(n)).ok()) << n;
  }
}

TEST(SignatureCodecTest, GeometryErrorsNameTheField) {
  auto msg = [](const Bytes& b) { return DecodeSignature(b).status().message(); };
  EXPECT_NE(msg(Sealed({100, 0, 8}, 0)).find("block_size 0"), std::string::npos);
  EXPECT_NE(msg(Sealed({100, uint64_t{1} << 31, 8}, 12)).find("block_size"),
            std::string::npos);
  EXPECT_NE(msg(Sealed({100, 10, 0}, 0)).find("strong_len 0"), std::string::npos);
  EXPECT_NE(msg(Sealed({100, 10, 17}, 0)).find("strong_len 17"), std::string::npos);
  // 100 bytes / block 10 = 10 blocks of 12 bytes = 120 bytes; give 108 / 132.
  EXPECT_NE(msg(Sealed({100, 10, 8}, 108)).find("block count 10"), std::string::npos);
  EXPECT_NE(msg(Sealed({100, 10, 8}, 132)).find("block count 10"), std::string::npos);
  EXPECT_TRUE(DecodeSignature(Sealed({100, 10, 8}, 120)).ok());
  // A huge file_size implying 2^60 blocks is refused before any allocation.
  EXPECT_NE(msg(Sealed({uint64_t{1} << 61, 2, 8}, 120)).find("block count"),
            std::string::npos);
}

TEST(SignatureCodecTest, EncodeRejectsAnInvalidSignature) {
  Signature s;
  s.file_size = 10;
  s.block_size = 4;
  s.strong_len = 8;
  EXPECT_EQ(EncodeSignature(s).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::delta
