// Messages through codec + compression + framing, as a session sends them.
#include "protocol/message_stream.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace ferry::protocol {
namespace {

struct Pipe {
  std::unique_ptr<Codec> codec = MakeCodec(1, DecodeLimits{true, true, true, true, true});
  std::unique_ptr<Compressor> comp;
  std::unique_ptr<Decompressor> decomp;
  explicit Pipe(int level, uint32_t max_frame = kDefaultMaxFrame) {
    if (level > 0) {
      comp = std::move(Compressor::Create(level).value());
      decomp = std::move(Decompressor::Create(max_frame).value());
    }
  }
};

std::vector<Message> DecodeStream(const std::vector<std::byte>& wire, MessageReader& reader) {
  FrameDecoder d(kDefaultMaxFrame);
  std::vector<Message> out;
  std::span<const std::byte> in(wire);
  while (!in.empty()) {
    std::optional<Frame> f;
    Result<size_t> used = d.Feed(in, &f);
    EXPECT_TRUE(used.ok()) << used.status().message();
    if (!used.ok()) break;
    in = in.subspan(*used);
    if (f) {
      Result<Message> m = reader.Decode(*f);
      EXPECT_TRUE(m.ok()) << m.status().message();
      if (m.ok()) out.push_back(std::move(*m));
    }
  }
  return out;
}

std::vector<std::byte> Text(size_t n) {
  std::vector<std::byte> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>("the quick brown fox "[i % 20]);
  return b;
}

TEST(MessageStream, CompressedSessionRoundTripsAndShrinks) {
  for (int level : {0, 1, 19}) {
    Pipe p(level);
    MessageWriter w(p.codec.get(), kDefaultMaxFrame, p.comp.get());
    std::vector<Message> sent = {
        FileEntry{.path = "a.txt", .size = 300000},
        FileData{0, 0, Text(200000)},
        FileData{0, 200000, Text(100000)},
        FileDone{0, 300000, Hash128{1, 2}},
        Keepalive{},
        DeltaOps{1, {{delta::OpKind::kLiteral, 5000, 0}}, Text(5000)},
    };
    std::vector<std::byte> wire;
    for (const Message& m : sent) ASSERT_TRUE(w.Append(m, &wire).ok());
    MessageReader r(p.codec.get(), p.decomp.get());
    EXPECT_EQ(DecodeStream(wire, r), sent) << "level " << level;
    if (level > 0) {
      EXPECT_LT(wire.size(), 20000u) << "level " << level;
    } else {
      EXPECT_GT(wire.size(), 305000u);
    }
  }
}

TEST(MessageStream, WriterRefusesPayloadsThatMustBeSplit) {
  Pipe p(1, kMinMaxFrame);
  MessageWriter w(p.codec.get(), kMinMaxFrame, p.comp.get());
  std::vector<std::byte> wire;
  EXPECT_FALSE(w.Append(FileData{0, 0, Text(kMinMaxFrame)}, &wire).ok());
  // Incompressible data of max_payload() bytes still fits one frame.
  std::vector<std::byte> noise(w.max_payload() - 16);
  std::mt19937 rng(1);
  for (auto& b : noise) b = static_cast<std::byte>(rng());
  EXPECT_TRUE(w.Append(FileData{0, 0, noise}, &wire).ok());
  FrameDecoder d(kMinMaxFrame);
  std::optional<Frame> f;
  ASSERT_TRUE(d.Feed(wire, &f).ok());
  ASSERT_TRUE(f.has_value());
  MessageReader r(p.codec.get(), p.decomp.get());
  Result<Message> m = r.Decode(*f);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(std::get<FileData>(*m).data, noise);
}

TEST(MessageStream, DecompressionBombIsAnError) {
  // 16 MiB of zeros compresses to a few hundred bytes; the reader allows
  // only max_frame (64 KiB) of output per frame.
  auto comp = Compressor::Create(3).value();
  std::vector<std::byte> packed;
  ASSERT_TRUE(comp->CompressMessage(std::vector<std::byte>(16 << 20), &packed).ok());
  ASSERT_LT(packed.size(), 4096u);
  auto decomp = Decompressor::Create(kMinMaxFrame).value();
  std::vector<std::byte> out;
  Status s = decomp->DecompressMessage(packed, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("decompression bomb"), std::string::npos) << s.message();
  EXPECT_LE(out.capacity(), size_t{kMinMaxFrame} + 1);
}

TEST(MessageStream, CompressedFlagWithoutNegotiationOrOnControlMessagesIsRefused) {
  Pipe p(1);
  Frame f{static_cast<uint8_t>(MsgType::kFileData), kFrameCompressed, {std::byte{1}}};
  MessageReader plain(p.codec.get(), nullptr);
  Result<Message> m = plain.Decode(f);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("compression was not negotiated"), std::string::npos);
  MessageReader zr(p.codec.get(), p.decomp.get());
  f.tag = static_cast<uint8_t>(MsgType::kCredit);
  m = zr.Decode(f);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("never compressed"), std::string::npos);
}

TEST(MessageStream, GarbageCompressedPayloadIsAnError) {
  auto decomp = Decompressor::Create(kMinMaxFrame).value();
  std::vector<std::byte> out;
  EXPECT_FALSE(decomp->DecompressMessage(Text(100), &out).ok());
}

}  // namespace
}  // namespace ferry::protocol
