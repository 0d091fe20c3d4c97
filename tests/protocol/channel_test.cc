// Channel over a socketpair: the handshake, messages both ways with flow
// control and compression, SendLater's batching, and a peer that closes
// mid-frame, sends garbage, overruns its credit, prints a banner or falls
// silent.
#include "protocol/channel.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include "protocol/handshake.h"

namespace ferry::protocol {
namespace {

SessionOptions Opts(bool zstd = false, uint64_t window = kDefaultWindow) {
  SessionOptions o;
  o.preserve = kPreservePerms | kPreserveTimes;
  o.max_frame = kMinMaxFrame;
  o.window = window;
  if (zstd) {
    o.compression = Compression::kZstd;
    o.compress_level = 3;
  }
  return o;
}

struct Pair {
  std::unique_ptr<Channel> client, server;
};

Pair Connect(const SessionOptions& o, ChannelConfig cfg = {}) {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto server = std::async(std::launch::async, [&] {
    ChannelConfig sc = cfg;
    sc.role = Role::kServer;
    return Channel::Accept(sv[1], sv[1], sc, nullptr);
  });
  cfg.role = Role::kClient;
  auto c = Channel::Connect(sv[0], sv[0], cfg, o);
  auto s = server.get();
  EXPECT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(s.ok()) << s.status().message();
  Pair p;
  if (c.ok()) p.client = std::move(c).value();
  if (s.ok()) p.server = std::move(s).value();
  return p;
}

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { ::signal(SIGPIPE, SIG_IGN); }
};

TEST_F(ChannelTest, MessagesTravelBothWaysAfterTheHandshake) {
  Pair p = Connect(Opts());
  ASSERT_TRUE(p.client && p.server);
  EXPECT_EQ(p.server->options(), Opts());
  FileEntry e;
  e.path = "dir/file";
  e.size = 3;
  ASSERT_TRUE(p.client->Send(e).ok());
  ASSERT_TRUE(p.server->Send(FileRequest{0, false}).ok());
  auto got = p.server->Receive();
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(std::get<FileEntry>(got->message), e);
  auto req = p.client->Receive();
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(std::get<FileRequest>(req->message), (FileRequest{0, false}));
  EXPECT_GT(p.client->bytes_sent(), 0u);
  EXPECT_EQ(p.client->bytes_sent(), p.server->bytes_received());
}

TEST_F(ChannelTest, DataWaitsForCreditAndFlowsWhenReturned) {
  // Window of one frame: the second FileData must wait for the Credit.
  Pair p = Connect(Opts(false, kMinMaxFrame));
  ASSERT_TRUE(p.client && p.server);
  const size_t n = p.client->max_payload() - 32;
  std::thread sender([&] {
    for (uint64_t i = 0; i < 5; ++i) {
      FileData d;
      d.offset = i * n;
      d.data.assign(n, std::byte{static_cast<unsigned char>(i)});
      ASSERT_TRUE(p.client->Send(d).ok());
    }
  });
  for (int i = 0; i < 5; ++i) {
    auto in = p.server->Receive();
    ASSERT_TRUE(in.ok()) << in.status().message();
    const auto& d = std::get<FileData>(in->message);
    EXPECT_EQ(d.offset, static_cast<uint64_t>(i) * n);
    EXPECT_EQ(d.data.size(), n);
    ASSERT_TRUE(p.server->ReturnCredit(in->wire_bytes).ok());
  }
  sender.join();
}

// SendLater: requests wait in one buffer and go out together, in order,
// with the next Send.
TEST_F(ChannelTest, LaterMessagesGoOutWithTheNextSendInOrder) {
  Pair p = Connect(Opts());
  ASSERT_TRUE(p.client && p.server);
  const uint64_t before = p.client->bytes_sent();
  ASSERT_TRUE(p.client->SendLater(FileRequest{1, false}).ok());
  ASSERT_TRUE(p.client->SendLater(FileRequest{2, true}).ok());
  EXPECT_EQ(p.client->bytes_sent(), before) << "queued messages were written at once";
  ASSERT_TRUE(p.client->Send(FileRequest{3, false}).ok());
  EXPECT_GT(p.client->bytes_sent(), before);
  for (uint32_t i = 1; i <= 3; ++i) {
    auto in = p.server->Receive();
    ASSERT_TRUE(in.ok()) << in.status().message();
    EXPECT_EQ(std::get<FileRequest>(in->message), (FileRequest{i, i == 2})) << i;
  }
}

// A side about to wait for its peer first writes what it queued: the peer
// (waiting for exactly that) is never left hanging.
TEST_F(ChannelTest, LaterMessagesGoOutBeforeReceiveWaits) {
  ChannelConfig cfg;
  cfg.timeout = std::chrono::milliseconds(3000);  // a lost request: a failure, not a hang
  Pair p = Connect(Opts(), cfg);
  ASSERT_TRUE(p.client && p.server);
  ASSERT_TRUE(p.client->SendLater(FileRequest{7, false}).ok());
  auto reply = std::async(std::launch::async, [&] { return p.client->Receive(); });
  auto in = p.server->Receive();
  ASSERT_TRUE(in.ok()) << in.status().message();
  EXPECT_EQ(std::get<FileRequest>(in->message), (FileRequest{7, false}));
  ASSERT_TRUE(p.server->Send(FileRequest{8, false}).ok());
  auto r = reply.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(std::get<FileRequest>(r->message), (FileRequest{8, false}));
}

// 64 queued messages are written without waiting for anything else.
TEST_F(ChannelTest, SixtyFourLaterMessagesAreWrittenWithoutASend) {
  Pair p = Connect(Opts());
  ASSERT_TRUE(p.client && p.server);
  const uint64_t before = p.client->bytes_sent();
  for (uint32_t i = 0; i < 63; ++i) ASSERT_TRUE(p.client->SendLater(FileRequest{i, false}).ok());
  EXPECT_EQ(p.client->bytes_sent(), before);
  ASSERT_TRUE(p.client->SendLater(FileRequest{63, false}).ok());
  EXPECT_GT(p.client->bytes_sent(), before);
  for (uint32_t i = 0; i < 64; ++i) {
    auto in = p.server->Receive();
    ASSERT_TRUE(in.ok()) << in.status().message();
    EXPECT_EQ(std::get<FileRequest>(in->message).file_index, i);
  }
}

// Data waits for flow-control credit: it cannot be queued behind requests.
TEST_F(ChannelTest, DataCannotBeSentLater) {
  Pair p = Connect(Opts());
  ASSERT_TRUE(p.client && p.server);
  FileData d;
  d.data.assign(10, std::byte{1});
  Status s = p.client->SendLater(d);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
}

TEST_F(ChannelTest, CompressionShrinksRepetitiveData) {
  Pair p = Connect(Opts(true));
  ASSERT_TRUE(p.client && p.server);
  FileData d;
  d.data.assign(60000, std::byte{'x'});
  ASSERT_TRUE(p.client->Send(d).ok());
  auto in = p.server->Receive();
  ASSERT_TRUE(in.ok()) << in.status().message();
  EXPECT_EQ(std::get<FileData>(in->message), d);
  EXPECT_LT(in->wire_bytes, 1000u);
  EXPECT_LT(p.client->bytes_sent(), 2000u);
}

TEST_F(ChannelTest, CleanCloseAtAFrameBoundaryIsEof) {
  Pair p = Connect(Opts());
  ASSERT_TRUE(p.client && p.server);
  ASSERT_TRUE(p.client->Send(EndOfPass{1, 0, 0}).ok());
  p.client->CloseWrite();
  auto a = p.server->Receive();
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(std::holds_alternative<EndOfPass>(a->message));
  auto b = p.server->Receive();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_TRUE(b->eof);
}

// A raw client: speaks the handshake by hand, then whatever the test wants.
class RawPeer {
 public:
  explicit RawPeer(const SessionOptions& o, bool handshake = true) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fd_ = sv[0];
    server_ = std::async(std::launch::async, [fd = sv[1]] {
      ChannelConfig sc;
      sc.role = Role::kServer;
      sc.timeout = std::chrono::milliseconds(2000);
      return Channel::Accept(fd, fd, sc, nullptr);
    });
    if (!handshake) return;
    auto g = EncodeGreeting(LocalHello(Role::kClient, kCapKnownMask));
    Write(g);
    codec_ = MakeCodec(1, LimitsFor(o));
    MessageWriter w(codec_.get(), kDefaultMaxFrame, nullptr);
    std::vector<std::byte> out;
    EXPECT_TRUE(w.Append(o, &out).ok());
    Write(out);
  }
  ~RawPeer() {
    if (fd_ >= 0) ::close(fd_);
  }
  void Write(std::span<const std::byte> b) {
    ASSERT_EQ(::write(fd_, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  }
  void Write(const std::string& s) { Write(std::as_bytes(std::span(s))); }
  void Close() {
    ::close(fd_);
    fd_ = -1;
  }
  std::unique_ptr<Channel> Server() {
    auto s = server_.get();
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  Status ServerStatus() { return server_.get().status(); }
  // Everything the server sent until it closes or 1 s passes.
  std::string Drain() {
    std::string all;
    char buf[4096];
    struct timeval tv {1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n;
    while ((n = ::read(fd_, buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
    return all;
  }
  std::vector<std::byte> Frame(uint8_t tag, const std::string& payload) {
    std::vector<std::byte> out;
    EXPECT_TRUE(AppendFrame(tag, 0, std::as_bytes(std::span(payload)), kMaxMaxFrame, &out).ok());
    return out;
  }

 private:
  int fd_ = -1;
  std::future<Result<std::unique_ptr<Channel>>> server_;
  std::unique_ptr<Codec> codec_;
};

TEST_F(ChannelTest, PeerClosingMidFrameIsAnErrorNamingTheFrame) {
  RawPeer raw(Opts());
  auto server = raw.Server();
  ASSERT_TRUE(server);
  auto frame = raw.Frame(static_cast<uint8_t>(MsgType::kFileData), std::string(100, 'a'));
  frame.resize(kFrameHeaderSize + 44);
  raw.Write(frame);
  raw.Close();
  auto in = server->Receive();
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("in the middle of a FileData frame (44 of 100"),
            std::string::npos)
      << in.status().message();
}

TEST_F(ChannelTest, GarbageIsAProtocolErrorToldToThePeer) {
  RawPeer raw(Opts());
  auto server = raw.Server();
  ASSERT_TRUE(server);
  raw.Write(raw.Frame(0x7f, "junk"));
  auto in = server->Receive();
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(in.status().message().find("0x7f"), std::string::npos) << in.status().message();
  // The peer was told: an Error frame (tag 0x50) follows the ack.
  EXPECT_NE(raw.Drain().find('\x50'), std::string::npos);
}

TEST_F(ChannelTest, OversizedFrameHeaderIsRefusedBeforeThePayload) {
  RawPeer raw(Opts());
  auto server = raw.Server();
  ASSERT_TRUE(server);
  std::vector<std::byte> header = {std::byte{0x30}, std::byte{0}, std::byte{0},
                                   std::byte{0},    std::byte{0}, std::byte{0x40}};
  raw.Write(header);  // 1 GiB announced, nothing sent
  auto in = server->Receive();
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("exceeds the maximum frame size"), std::string::npos)
      << in.status().message();
}

TEST_F(ChannelTest, DataBeyondTheCreditIsAProtocolError) {
  RawPeer raw(Opts(false, kMinMaxFrame));
  auto server = raw.Server();
  ASSERT_TRUE(server);
  FileData d;
  d.data.assign(40000, std::byte{1});
  auto codec = MakeCodec(1, LimitsFor(Opts()));
  MessageWriter w(codec.get(), kMinMaxFrame, nullptr);
  std::vector<std::byte> out;
  ASSERT_TRUE(w.Append(d, &out).ok());
  ASSERT_TRUE(w.Append(d, &out).ok());
  raw.Write(out);
  auto first = server->Receive();
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = server->Receive();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("credit"), std::string::npos)
      << second.status().message();
}

TEST_F(ChannelTest, ShellBannerInsteadOfTheMagicIsShown) {
  RawPeer raw(Opts(), /*handshake=*/false);
  raw.Write(std::string("Welcome to prod-db-1\n"));
  raw.Close();
  Status s = raw.ServerStatus();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'Welcome "), std::string::npos) << s.message();
}

TEST_F(ChannelTest, SilentPeerTimesOut) {
  RawPeer raw(Opts());
  auto server = raw.Server();
  ASSERT_TRUE(server);
  auto in = server->Receive();  // the raw peer sends nothing, not even keepalives
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("timeout"), std::string::npos) << in.status().message();
}

TEST_F(ChannelTest, RefusedOptionsReachTheClient) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto server = std::async(std::launch::async, [&] {
    ChannelConfig sc;
    sc.role = Role::kServer;
    return Channel::Accept(sv[1], sv[1], sc, [](const SessionOptions&) {
      return Status(ErrorCode::kPermission, "this module is read-only");
    });
  });
  ChannelConfig cc;
  auto c = Channel::Connect(sv[0], sv[0], cc, Opts());
  EXPECT_FALSE(server.get().ok());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("read-only"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace ferry::protocol
