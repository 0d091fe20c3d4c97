#include "protocol/incoming_file.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::protocol {
namespace {

std::vector<std::byte> B(std::string_view s) {
  auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}

struct Sink {
  std::vector<std::byte> out;
  delta::ByteSink fn() {
    return [this](std::span<const std::byte> b) {
      out.insert(out.end(), b.begin(), b.end());
      return Status::Ok();
    };
  }
};

TEST(IncomingFile, WholeFileLandsOnlyWithTheSendersHash) {
  Sink sink;
  IncomingFile f(3, 11, false, {}, sink.fn());
  ASSERT_TRUE(f.OnData(FileData{3, 0, B("hello ")}).ok());
  ASSERT_TRUE(f.OnData(FileData{3, 6, B("world")}).ok());
  EXPECT_TRUE(f.OnDone(FileDone{3, 11, HashBytes(B("hello world"))}).ok());
  EXPECT_EQ(sink.out, B("hello world"));

  IncomingFile g(3, 11, false, {}, sink.fn());
  ASSERT_TRUE(g.OnData(FileData{3, 0, B("hello world")}).ok());
  Status s = g.OnDone(FileDone{3, 11, HashBytes(B("hello WORLD"))});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("result hash mismatch"), std::string::npos);
}

TEST(IncomingFile, DataOutOfOrderOrBeyondTheListedSizeIsRefused) {
  Sink sink;
  IncomingFile f(0, 8, false, {}, sink.fn());
  EXPECT_FALSE(f.OnData(FileData{0, 4, B("x")}).ok());
  EXPECT_FALSE(f.OnData(FileData{1, 0, B("x")}).ok());
  ASSERT_TRUE(f.OnData(FileData{0, 0, B("12345678")}).ok());
  Status s = f.OnData(FileData{0, 8, B("9")});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("beyond its listed size 8"), std::string::npos);
  EXPECT_FALSE(f.OnDelta(DeltaOps{0, {}, {}}).ok());  // requested whole
}

TEST(IncomingFile, DeltaChunksRebuildFromTheBasis) {
  const auto basis = B("0123456789abcdef");
  Sink sink;
  IncomingFile f(1, 100, true, basis, sink.fn());
  ASSERT_TRUE(f.OnDelta(DeltaOps{1, {{delta::OpKind::kCopy, 4, 10}}, {}}).ok());
  ASSERT_TRUE(f.OnDelta(DeltaOps{1,
                                 {{delta::OpKind::kLiteral, 2, 0}, {delta::OpKind::kCopy, 3, 0}},
                                 B("XY")})
                  .ok());
  EXPECT_EQ(sink.out, B("abcdXY012"));
  EXPECT_TRUE(f.OnDone(FileDone{1, 9, HashBytes(B("abcdXY012"))}).ok());
}

TEST(IncomingFile, Cve2024_12084_CopyOutsideTheBasisWritesNothing) {
  const auto basis = B("0123456789");
  Sink sink;
  IncomingFile f(1, 100, true, basis, sink.fn());
  Status s = f.OnDelta(DeltaOps{1,
                                {{delta::OpKind::kLiteral, 1, 0}, {delta::OpKind::kCopy, 4, 8}},
                                B("Z")});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(sink.out.empty());
  IncomingFile g(1, 5, true, basis, sink.fn());
  s = g.OnDelta(DeltaOps{1, {{delta::OpKind::kCopy, 6, 0}}, {}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("more than its listed size 5"), std::string::npos);
}

TEST(IncomingFile, ShortOrDoubleDoneIsRefused) {
  Sink sink;
  IncomingFile f(0, 10, false, {}, sink.fn());
  ASSERT_TRUE(f.OnData(FileData{0, 0, B("abc")}).ok());
  EXPECT_NE(f.OnDone(FileDone{0, 10, HashBytes(B("abc"))}).message().find("size 10 but 3"),
            std::string::npos);
  EXPECT_FALSE(f.OnDone(FileDone{0, 3, HashBytes(B("abc"))}).ok());
}

}  // namespace
}  // namespace ferry::protocol
