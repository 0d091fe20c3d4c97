#include "engine/delta/wire.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace ferry::delta::wire {
namespace {

using Bytes = std::vector<std::byte>;

TEST(WireTest, VarintsRoundTripAndHaveTheLeb128Layout) {
  Bytes b;
  PutVarint(b, 300);  // 300 = 0b10_0101100 -> 0xAC 0x02
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], std::byte{0xAC});
  EXPECT_EQ(b[1], std::byte{0x02});
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 63,
                     UINT64_MAX}) {
    Bytes e;
    PutVarint(e, v);
    WireReader r(e, "test");
    uint64_t got = 1;
    ASSERT_TRUE(r.Varint("v", &got).ok());
    EXPECT_EQ(got, v);
    EXPECT_EQ(r.remaining(), 0u);
  }
  Bytes max;
  PutVarint(max, UINT64_MAX);
  EXPECT_EQ(max.size(), 10u);
}

TEST(WireTest, MalformedVarintsNameTheField) {
  Bytes overflow(9, std::byte{0xFF});
  overflow.push_back(std::byte{0x02});  // bit 64 set
  WireReader r1(overflow, "msg");
  uint64_t v;
  Status s = r1.Varint("count", &v);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupt);
  EXPECT_EQ(s.message(), "msg: count overflows 64 bits");
  Bytes truncated = {std::byte{0x80}};
  WireReader r2(truncated, "msg");
  EXPECT_EQ(r2.Varint("count", &v).message(), "msg: count is truncated");
  std::span<const std::byte> out;
  WireReader r3(truncated, "msg");
  EXPECT_NE(r3.Bytes("body", 2, &out).message().find("body needs 2 bytes"),
            std::string::npos);
}

TEST(WireTest, ZigZag) {
  EXPECT_EQ(ZigZag(0), 0u);
  EXPECT_EQ(ZigZag(-1), 1u);
  EXPECT_EQ(ZigZag(1), 2u);
  for (int64_t v : {INT64_MIN, INT64_MAX, int64_t{-12345}}) EXPECT_EQ(UnZigZag(ZigZag(v)), v);
}

TEST(WireTest, SealUnsealAndLimits) {
  const std::array<char, 4> magic = {'T', 'E', 'S', 'T'};
  Bytes payload(100000, std::byte{7});
  auto sealed = Seal(magic, payload, 1);
  ASSERT_TRUE(sealed.ok());
  EXPECT_LT(sealed->size(), 200u);
  auto back = Unseal(magic, *sealed, 100000, "t");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, payload);
  EXPECT_NE(Unseal(magic, *sealed, 99999, "t").status().message().find("exceeds the limit"),
            std::string::npos);
  EXPECT_NE(Unseal({'X', 'E', 'S', 'T'}, *sealed, 100000, "t").status().message().find("magic"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::delta::wire
