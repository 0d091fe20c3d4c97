#include "protocol/frame.h"

#include <gtest/gtest.h>

#include <vector>

namespace ferry::protocol {
namespace {

std::vector<std::byte> Bytes(size_t n, uint8_t fill) {
  return std::vector<std::byte>(n, std::byte{fill});
}

// Feeds `stream` in pieces of `piece` bytes; returns the frames.
Result<std::vector<Frame>> DecodeAll(FrameDecoder& d, const std::vector<std::byte>& stream,
                                     size_t piece) {
  std::vector<Frame> frames;
  std::span<const std::byte> in(stream);
  while (!in.empty()) {
    std::span<const std::byte> chunk = in.first(std::min(piece, in.size()));
    in = in.subspan(chunk.size());
    while (!chunk.empty()) {
      std::optional<Frame> f;
      ASSIGN_OR_RETURN(size_t used, d.Feed(chunk, &f));
      chunk = chunk.subspan(used);
      if (f) frames.push_back(std::move(*f));
    }
  }
  return frames;
}

TEST(Frame, FramesSurviveAnySplitOfTheStream) {
  std::vector<std::byte> stream;
  ASSERT_TRUE(AppendFrame(0x30, 0, Bytes(1000, 7), 4096, &stream).ok());
  ASSERT_TRUE(AppendFrame(0x62, 0, {}, 4096, &stream).ok());
  ASSERT_TRUE(AppendFrame(0x31, kFrameCompressed, Bytes(4096, 9), 4096, &stream).ok());
  for (size_t piece : {size_t{1}, size_t{5}, size_t{6}, size_t{7}, size_t{4096}, stream.size()}) {
    FrameDecoder d(4096);
    Result<std::vector<Frame>> frames = DecodeAll(d, stream, piece);
    ASSERT_TRUE(frames.ok()) << frames.status().message();
    ASSERT_EQ(frames->size(), 3u) << piece;
    EXPECT_EQ((*frames)[0], (Frame{0x30, 0, Bytes(1000, 7)}));
    EXPECT_EQ((*frames)[1], (Frame{0x62, 0, {}}));
    EXPECT_EQ((*frames)[2], (Frame{0x31, kFrameCompressed, Bytes(4096, 9)}));
    EXPECT_TRUE(d.at_boundary());
    EXPECT_TRUE(d.Finish().ok());
  }
}

TEST(Frame, Cve2024_12084_FrameLargerThanMaximumIsRefusedBeforeBuffering) {
  std::vector<std::byte> stream;
  ASSERT_TRUE(AppendFrame(0x30, 0, Bytes(5000, 1), 8192, &stream).ok());
  FrameDecoder d(4096);
  std::optional<Frame> f;
  // The header alone is enough to refuse it.
  Result<size_t> r = d.Feed(std::span(stream).first(kFrameHeaderSize), &f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("FileData payload length 5000 exceeds the maximum "
                                      "frame size 4096"),
            std::string::npos)
      << r.status().message();
  // The decoder stays failed.
  EXPECT_FALSE(d.Feed(std::span(stream).subspan(kFrameHeaderSize), &f).ok());
}

TEST(Frame, HugeLengthHeaderIsRefused) {
  const std::vector<std::byte> header = {std::byte{0x30}, std::byte{0}, std::byte{0xff},
                                         std::byte{0xff}, std::byte{0xff}, std::byte{0xff}};
  FrameDecoder d(kMaxMaxFrame);
  std::optional<Frame> f;
  EXPECT_FALSE(d.Feed(header, &f).ok());
}

TEST(Frame, ReservedFlagBitsAreRefused) {
  const std::vector<std::byte> header = {std::byte{0x62}, std::byte{0x02}, std::byte{0},
                                         std::byte{0}, std::byte{0}, std::byte{0}};
  FrameDecoder d(4096);
  std::optional<Frame> f;
  Result<size_t> r = d.Feed(header, &f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("reserved flag bits"), std::string::npos);
  std::vector<std::byte> out;
  EXPECT_FALSE(AppendFrame(0x62, 0x80, {}, 4096, &out).ok());
}

TEST(Frame, EncoderRefusesPayloadAboveItsLimit) {
  std::vector<std::byte> out;
  EXPECT_FALSE(AppendFrame(0x30, 0, Bytes(4097, 0), 4096, &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(Frame, StreamEndingMidFrameIsReported) {
  std::vector<std::byte> stream;
  ASSERT_TRUE(AppendFrame(0x30, 0, Bytes(100, 1), 4096, &stream).ok());
  {
    FrameDecoder d(4096);
    ASSERT_TRUE(DecodeAll(d, std::vector<std::byte>(stream.begin(), stream.begin() + 3), 3).ok());
    Status s = d.Finish();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("3 of 6 header bytes"), std::string::npos) << s.message();
  }
  {
    FrameDecoder d(4096);
    ASSERT_TRUE(DecodeAll(d, std::vector<std::byte>(stream.begin(), stream.begin() + 50), 50).ok());
    Status s = d.Finish();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("FileData frame (44 of 100 payload bytes)"), std::string::npos)
        << s.message();
  }
}

TEST(Frame, LimitRaisedAfterHandshakeAppliesToLaterFrames) {
  std::vector<std::byte> stream;
  ASSERT_TRUE(AppendFrame(0x30, 0, Bytes(10000, 1), 1 << 20, &stream).ok());
  FrameDecoder d(kHandshakeMaxFrame);
  d.set_max_payload(1 << 20);
  Result<std::vector<Frame>> frames = DecodeAll(d, stream, 333);
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(frames->size(), 1u);
}

}  // namespace
}  // namespace ferry::protocol
