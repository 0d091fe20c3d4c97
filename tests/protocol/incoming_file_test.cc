#include "protocol/incoming_file.h"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST(IncomingFile, CopiesAreReadThroughTheReaderInPiecesAndHashed) {
  std::vector<std::byte> basis(700 * 1024);
  for (size_t i = 0; i < basis.size(); ++i) basis[i] = static_cast<std::byte>(i * 7 + i / 4096);
  std::vector<std::pair<uint64_t, size_t>> reads;
  auto reader = [&](uint64_t offset, std::span<std::byte> buf) -> Result<size_t> {
    reads.emplace_back(offset, buf.size());
    std::copy_n(basis.begin() + static_cast<long>(offset), buf.size(), buf.begin());
    return buf.size();
  };
  std::vector<size_t> pieces;
  std::vector<std::byte> out;
  delta::ByteSink sink = [&](std::span<const std::byte> b) {
    // The sink never sees the basis' own memory: the bytes come through
    // the reader's buffer.
    EXPECT_FALSE(b.data() >= basis.data() && b.data() < basis.data() + basis.size());
    pieces.push_back(b.size());
    out.insert(out.end(), b.begin(), b.end());
    return Status::Ok();
  };
  IncomingFile f(2, basis.size(), true, basis, sink, reader);
  // The whole basis but the first 100 bytes, then those 100 bytes.
  ASSERT_TRUE(f.OnDelta(DeltaOps{2,
                                 {{delta::OpKind::kCopy, basis.size() - 100, 100},
                                  {delta::OpKind::kCopy, 100, 0}},
                                 {}})
                  .ok());
  std::vector<std::byte> want(basis.begin() + 100, basis.end());
  want.insert(want.end(), basis.begin(), basis.begin() + 100);
  EXPECT_EQ(out, want);
  ASSERT_EQ(reads.size(), 4u);  // 256 KiB pieces: 3 for the first COPY, 1 for the second
  EXPECT_EQ(reads[0], (std::pair<uint64_t, size_t>{100, 256 * 1024}));
  EXPECT_EQ(reads[3], (std::pair<uint64_t, size_t>{0, 100}));
  EXPECT_TRUE(f.OnDone(FileDone{2, want.size(), HashBytes(want)}).ok());
}

TEST(IncomingFile, AFailedOrShortBasisReadFallsBackToTheMapping) {
  std::vector<std::byte> basis(300 * 1024, std::byte{9});
  basis[299 * 1024] = std::byte{1};
  int calls = 0;
  auto reader = [&](uint64_t offset, std::span<std::byte> buf) -> Result<size_t> {
    if (++calls == 2) return Status(ErrorCode::kIo, "read error");
    std::copy_n(basis.begin() + static_cast<long>(offset), buf.size(), buf.begin());
    return buf.size();
  };
  Sink sink;
  IncomingFile f(0, basis.size(), true, basis, sink.fn(), reader);
  ASSERT_TRUE(f.OnDelta(DeltaOps{0, {{delta::OpKind::kCopy, basis.size(), 0}}, {}}).ok());
  EXPECT_EQ(sink.out, basis);
  EXPECT_TRUE(f.OnDone(FileDone{0, basis.size(), HashBytes(basis)}).ok());

  calls = 0;
  auto short_reader = [&](uint64_t, std::span<std::byte> buf) -> Result<size_t> {
    ++calls;
    return buf.size() / 2;  // the file shrank under the mapping's length
  };
  Sink sink2;
  IncomingFile g(0, basis.size(), true, basis, sink2.fn(), short_reader);
  ASSERT_TRUE(g.OnDelta(DeltaOps{0, {{delta::OpKind::kCopy, basis.size(), 0}}, {}}).ok());
  EXPECT_EQ(sink2.out, basis);
  EXPECT_EQ(calls, 1);
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
