#include "engine/delta/patch.h"

#include <gtest/gtest.h>

#include "tests/engine/delta/delta_test_util.h"

namespace ferry::delta {
namespace {

using testing::Bytes;
using testing::RandomBytes;

Delta HandMade(uint64_t old_size) {
  Delta d;
  d.old_size = old_size;
  d.literals = RandomBytes(5, 1);
  d.ops = {{OpKind::kCopy, 10, 20}, {OpKind::kLiteral, 5, 0}, {OpKind::kCopy, 3, 0}};
  d.new_size = 18;
  return d;
}

TEST(PatchTest, ProducesBytesAndTheirHash) {
  const Bytes old_data = RandomBytes(100, 2);
  const Delta d = HandMade(100);
  Bytes expected(old_data.begin() + 20, old_data.begin() + 30);
  expected.insert(expected.end(), d.literals.begin(), d.literals.end());
  expected.insert(expected.end(), old_data.begin(), old_data.begin() + 3);
  EXPECT_EQ(testing::Patch(old_data, d), expected);
  Hash128 h;
  ASSERT_TRUE(ApplyDelta(old_data, d, [](auto) { return Status::Ok(); }, &h).ok());
  EXPECT_EQ(h, HashBytes(expected));
}

TEST(PatchTest, CopyOutsideTheOldFileIsRejectedBeforeAnyOutput) {
  const Bytes old_data = RandomBytes(25, 3);
  Delta d = HandMade(25);  // COPY 20..30 overruns 25 bytes
  size_t written = 0;
  Status s = ApplyDelta(
      old_data, d,
      [&](std::span<const std::byte> c) {
        written += c.size();
        return Status::Ok();
      },
      nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupt);
  EXPECT_NE(s.message().find("op 0"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("outside the old file"), std::string::npos);
  EXPECT_EQ(written, 0u);

  d.ops[0].old_offset = UINT64_MAX - 3;  // offset + length wraps around
  EXPECT_EQ(ApplyDelta(old_data, d, [](auto) { return Status::Ok(); }, nullptr)
                .code(),
            ErrorCode::kCorrupt);
}

TEST(PatchTest, OldSizeMismatchIsRejected) {
  const Bytes old_data = RandomBytes(99, 4);
  Status s = ApplyDelta(old_data, HandMade(100),
                        [](auto) { return Status::Ok(); }, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("100"), std::string::npos);
}

TEST(PatchTest, InconsistentDeltasAreRejected) {
  const Bytes old_data = RandomBytes(100, 5);
  auto apply = [&](const Delta& d) {
    return ApplyDelta(old_data, d, [](auto) { return Status::Ok(); }, nullptr);
  };
  Delta zero = HandMade(100);
  zero.ops[1].length = 0;
  EXPECT_NE(apply(zero).message().find("length is 0"), std::string::npos);
  Delta lit = HandMade(100);
  lit.literals.pop_back();
  EXPECT_NE(apply(lit).message().find("LITERAL"), std::string::npos);
  Delta extra_lit = HandMade(100);
  extra_lit.literals.push_back(std::byte{0});
  EXPECT_EQ(apply(extra_lit).code(), ErrorCode::kCorrupt);
  Delta size = HandMade(100);
  size.new_size = 17;
  EXPECT_NE(apply(size).message().find("new_size"), std::string::npos);
  size.new_size = 19;
  EXPECT_NE(apply(size).message().find("new_size"), std::string::npos);
  Delta kind = HandMade(100);
  kind.ops[0].kind = static_cast<OpKind>(7);
  EXPECT_NE(apply(kind).message().find("kind"), std::string::npos);
}

TEST(PatchTest, SinkErrorStopsThePatch) {
  const Bytes old_data = RandomBytes(100, 6);
  int calls = 0;
  Status s = ApplyDelta(
      old_data, HandMade(100),
      [&](auto) {
        ++calls;
        return Status(ErrorCode::kNoSpace, "write tmp: No space left on device");
      },
      nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kNoSpace);
  EXPECT_EQ(calls, 1);
}

TEST(PatchTest, LargeCopiesAreStreamedInChunks) {
  const Bytes old_data = RandomBytes(9 << 20, 7);
  Delta d;
  d.old_size = d.new_size = old_data.size();
  d.ops = {{OpKind::kCopy, old_data.size(), 0}};
  size_t calls = 0, biggest = 0;
  Hash128 h;
  ASSERT_TRUE(ApplyDelta(
                  old_data, d,
                  [&](std::span<const std::byte> c) {
                    ++calls;
                    biggest = std::max(biggest, c.size());
                    return Status::Ok();
                  },
                  &h)
                  .ok());
  EXPECT_GE(calls, 3u);
  EXPECT_LE(biggest, size_t{4} << 20);
  EXPECT_EQ(h, HashBytes(old_data));
}

}  // namespace
}  // namespace ferry::delta
