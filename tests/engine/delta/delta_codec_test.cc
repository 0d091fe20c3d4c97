#include "engine/delta/delta_codec.h"

#include <gtest/gtest.h>

#include <array>

#include "engine/delta/wire.h"
#include "tests/engine/delta/delta_test_util.h"

namespace ferry::delta {
namespace {

using testing::Bytes;
using testing::RandomBytes;

constexpr std::array<char, 4> kMagic = {'F', 'D', 'L', '1'};

// A hostile peer's message: a well-formed envelope around any payload.
Bytes Sealed(const Bytes& payload) {
  auto s = wire::Seal(kMagic, payload, 1);
  EXPECT_TRUE(s.ok());
  return *s;
}

Bytes Payload(std::initializer_list<uint64_t> varints, const Bytes& tail = {}) {
  Bytes p;
  for (uint64_t v : varints) wire::PutVarint(p, v);
  p.insert(p.end(), tail.begin(), tail.end());
  return p;
}

Delta Example(size_t size = 300 * 1024, uint32_t block = 1024) {
  std::mt19937_64 rng(1);
  const Bytes old_data = RandomBytes(size, 2);
  const Bytes new_data = testing::Mutate(old_data, rng, 30, 2000);
  return testing::RoundTrip(old_data, new_data, {block, 8}, {});
}

TEST(DeltaCodecTest, RoundTrip) {
  const Delta d = Example();
  auto enc = EncodeDelta(d);
  ASSERT_TRUE(enc.ok());
  auto dec = DecodeDelta(*enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(dec->ops, d.ops);
  EXPECT_EQ(dec->literals, d.literals);
  EXPECT_EQ(dec->old_size, d.old_size);
  EXPECT_EQ(dec->new_size, d.new_size);
  EXPECT_EQ(dec->stats.literal_bytes, d.stats.literal_bytes);
  EXPECT_EQ(dec->stats.matched_bytes, d.stats.matched_bytes);
}

TEST(DeltaCodecTest, EmptyAndIdenticalDeltasAreTiny) {
  Delta empty;
  auto e = EncodeDelta(empty);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(DecodeDelta(*e).ok());
  const Bytes data = RandomBytes(1 << 20, 3);
  Delta same = testing::RoundTrip(data, data, {1024, 8}, {});
  auto s = EncodeDelta(same);
  ASSERT_TRUE(s.ok());
  EXPECT_LT(s->size(), 40u);
}

TEST(DeltaCodecTest, EncodeRejectsAnInvalidDelta) {
  Delta d;
  d.new_size = 1;
  EXPECT_EQ(EncodeDelta(d).status().code(), ErrorCode::kCorrupt);
}

TEST(DeltaCodecTest, EveryTruncationIsRejected) {
  auto enc = EncodeDelta(Example(16 * 1024, 64));
  ASSERT_TRUE(enc.ok());
  ASSERT_LT(enc->size(), 20000u);
  for (size_t n = 0; n < enc->size(); ++n) {
    auto dec = DecodeDelta(std::span(*enc).first(n));
    ASSERT_FALSE(dec.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(dec.status().code(), ErrorCode::kCorrupt);
  }
}

TEST(DeltaCodecTest, EnvelopeErrorsNameTheField) {
  auto enc = EncodeDelta(Example());
  ASSERT_TRUE(enc.ok());
  Bytes bad_magic = *enc;
  bad_magic[0] = std::byte{'X'};
  EXPECT_NE(DecodeDelta(bad_magic).status().message().find("magic"), std::string::npos);
  EXPECT_NE(DecodeDelta(*enc, 100).status().message().find("payload_size"),
            std::string::npos);
  Bytes trailing = *enc;
  trailing.push_back(std::byte{0});
  EXPECT_FALSE(DecodeDelta(trailing).ok());
  // Declared payload size disagreeing with the frame, both ways.
  for (int delta : {-1, +1}) {
    Bytes p = Payload({0, 0, 0, 0});
    Bytes env = {std::byte{'F'}, std::byte{'D'}, std::byte{'L'}, std::byte{'1'}};
    wire::PutVarint(env, p.size() + delta);
    Bytes frame = Sealed(p);
    env.insert(env.end(), frame.begin() + 5, frame.end());  // skip magic + size
    auto dec = DecodeDelta(env);
    ASSERT_FALSE(dec.ok());
    EXPECT_NE(dec.status().message().find("declared"), std::string::npos)
        << dec.status().ToString();
  }
  // An 11-byte varint.
  Bytes overlong = {std::byte{'F'}, std::byte{'D'}, std::byte{'L'}, std::byte{'1'}};
  for (int i = 0; i < 11; ++i) overlong.push_back(std::byte{0xFF});
  EXPECT_NE(DecodeDelta(overlong).status().message().find("payload_size"),
            std::string::npos);
}

TEST(DeltaCodecTest, OversizedCountsAreRejectedBeforeAllocation) {
  auto msg = [](const Bytes& payload) {
    return DecodeDelta(Sealed(payload)).status().message();
  };
  EXPECT_NE(msg(Payload({10, 10, uint64_t{1} << 60, 0})).find("op_count"),
            std::string::npos);
  EXPECT_NE(msg(Payload({10, 10, 1, uint64_t{1} << 60}, Bytes(4))).find("literal_size"),
            std::string::npos);
}

TEST(DeltaCodecTest, OutOfRangeCopiesAndBadOpsAreRejected) {
  auto msg = [](const Bytes& payload) {
    return DecodeDelta(Sealed(payload)).status().message();
  };
  // old_size 10, new_size 5: COPY length 5 at offset 6 overruns.
  EXPECT_NE(msg(Payload({10, 5, 1, 0, 5 << 1 | 1, wire::ZigZag(6)})).find("COPY"),
            std::string::npos);
  // A negative offset (wraps around).
  EXPECT_NE(msg(Payload({10, 5, 1, 0, 5 << 1 | 1, wire::ZigZag(-1)})).find("COPY"),
            std::string::npos);
  // Zero-length op.
  EXPECT_NE(msg(Payload({10, 0, 1, 0, 0})).find("length 0"), std::string::npos);
  // Ops producing fewer bytes than new_size.
  EXPECT_NE(msg(Payload({10, 6, 1, 0, 5 << 1 | 1, 0})).find("new_size"),
            std::string::npos);
  // Literal op longer than the literal bytes.
  EXPECT_NE(msg(Payload({0, 3, 1, 2, 3 << 1}, Bytes(2))).find("LITERAL"),
            std::string::npos);
  // literal_size disagreeing with the bytes present.
  EXPECT_NE(msg(Payload({0, 2, 1, 2, 2 << 1}, Bytes(3))).find("literal_size"),
            std::string::npos);
  // Truncated op list: a COPY whose offset varint never ends.
  EXPECT_NE(msg(Payload({10, 5, 2, 0}, {std::byte{5 << 1 | 1}, std::byte{0x80}}))
                .find("copy offset is truncated"),
            std::string::npos);
  // And the well-formed version of the same message decodes.
  auto ok = DecodeDelta(Sealed(Payload({10, 7, 2, 2, 5 << 1 | 1, wire::ZigZag(5), 2 << 1},
                                       Bytes(2))));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->ops[0], (DeltaOp{OpKind::kCopy, 5, 5}));
}

TEST(DeltaCodecTest, RandomCorruptionNeverYieldsAnInvalidDelta) {
  auto enc = EncodeDelta(Example());
  ASSERT_TRUE(enc.ok());
  std::mt19937_64 rng(4);
  for (int i = 0; i < 300; ++i) {
    Bytes b = *enc;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
      b[rng() % b.size()] ^= static_cast<std::byte>(1 + rng() % 255);
    }
    auto dec = DecodeDelta(b);
    if (dec.ok()) {
      EXPECT_TRUE(dec->Validate().ok());
    }
  }
}

}  // namespace
}  // namespace ferry::delta
