#include "protocol/handshake.h"

#include <gtest/gtest.h>

#include <string>

#include "protocol/codec.h"

namespace ferry::protocol {
namespace {

// Splits a greeting into its magic and decoded Hello.
Result<Hello> ParseGreeting(const std::vector<std::byte>& g) {
  RETURN_IF_ERROR(CheckStreamMagic(std::span(g).first(8)));
  FrameDecoder d(kHandshakeMaxFrame);
  std::optional<Frame> f;
  ASSIGN_OR_RETURN(size_t used, d.Feed(std::span(g).subspan(8), &f));
  if (!f || used != g.size() - 8) return Corrupt("greeting is not one frame");
  return DecodeHello(*f);
}

SessionOptions Options() {
  SessionOptions o;
  o.preserve = kPreservePerms | kPreserveTimes;
  o.hard_links = true;
  o.max_frame = kDefaultMaxFrame;
  o.window = 4 * kDefaultMaxFrame;
  return o;
}

TEST(Handshake, GreetingRoundTripsAndBothSidesAgree) {
  const Hello client = LocalHello(Role::kClient, kCapKnownMask);
  const Hello server = LocalHello(Role::kServer, kCapHardLinks | kCapZstd, kMinMaxFrame);
  Result<Hello> c = ParseGreeting(EncodeGreeting(client));
  Result<Hello> s = ParseGreeting(EncodeGreeting(server));
  ASSERT_TRUE(c.ok() && s.ok());
  EXPECT_EQ(*c, client);
  EXPECT_EQ(*s, server);
  Result<Negotiated> at_client = Negotiate(client, *s);
  Result<Negotiated> at_server = Negotiate(server, *c);
  ASSERT_TRUE(at_client.ok() && at_server.ok());
  EXPECT_EQ(*at_client, *at_server);
  EXPECT_EQ(at_client->version, kVersionMax);
  EXPECT_EQ(at_client->capabilities, kCapHardLinks | kCapZstd);
  EXPECT_EQ(at_client->max_frame, kMinMaxFrame);
}

TEST(Handshake, ShellBannerIsNamedInTheError) {
  const std::string banner = "Welcome to host\n";
  Status s = CheckStreamMagic(std::as_bytes(std::span(banner.data(), 8)));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("first bytes: 'Welcome '"), std::string::npos) << s.message();
}

TEST(Handshake, NoCommonVersionIsAClearError) {
  Hello peer = LocalHello(Role::kServer, 0);
  peer.version_min = 3;
  peer.version_max = 4;
  Result<Negotiated> n = Negotiate(LocalHello(Role::kClient, 0), peer);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(n.status().message().find("peer speaks 3..4, this ferry 1..1"), std::string::npos)
      << n.status().message();
}

TEST(Handshake, NewerPeerWithOverlapPicksTheHighestCommonVersion) {
  Hello peer = LocalHello(Role::kServer, 0);
  peer.version_max = 9;
  peer.capabilities = ~uint64_t{0};  // bits we do not know are ignored
  Result<Negotiated> n = Negotiate(LocalHello(Role::kClient, kCapZstd), peer);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->version, 1);
  EXPECT_EQ(n->capabilities, kCapZstd);
}

TEST(Handshake, SameRoleIsRefused) {
  EXPECT_FALSE(Negotiate(LocalHello(Role::kServer, 0), LocalHello(Role::kServer, 0)).ok());
}

TEST(Handshake, LaterVersionsMayExtendHello) {
  std::vector<std::byte> g = EncodeGreeting(LocalHello(Role::kServer, 0));
  // Append 3 bytes to the payload and fix the length.
  g.insert(g.end(), 3, std::byte{0xAA});
  g[8 + 2] = std::byte{kHelloPayloadSize + 3};
  Result<Hello> h = ParseGreeting(g);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->role, Role::kServer);
}

TEST(Handshake, MalformedHellosAreRefusedNamingTheField) {
  auto with = [](auto mutate) {
    Hello h = LocalHello(Role::kClient, 0);
    mutate(h);
    return ParseGreeting(EncodeGreeting(h)).status().message();
  };
  EXPECT_NE(with([](Hello& h) { h.version_min = 0; }).find("version range 0..1 is empty"),
            std::string::npos);
  EXPECT_NE(with([](Hello& h) { h.max_frame = 100; }).find("max_frame 100"), std::string::npos);
  EXPECT_NE(with([](Hello& h) { h.role = static_cast<Role>(9); }).find("role 9"),
            std::string::npos);
  std::vector<std::byte> g = EncodeGreeting(LocalHello(Role::kClient, 0));
  g.resize(g.size() - 1);
  g[8 + 2] = std::byte{kHelloPayloadSize - 1};
  EXPECT_NE(ParseGreeting(g).status().message().find("Hello is 16 bytes, needs 17"),
            std::string::npos);
}

TEST(Handshake, OptionsNeedNegotiatedCapabilities) {
  Negotiated n{1, kCapHardLinks, kDefaultMaxFrame};
  EXPECT_TRUE(CheckOptions(Options(), n).ok());
  SessionOptions x = Options();
  x.xattrs = true;
  Status s = CheckOptions(x, n);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--xattrs (-X) requested"), std::string::npos);
  SessionOptions z = Options();
  z.compression = Compression::kZstd;
  z.compress_level = 3;
  EXPECT_FALSE(CheckOptions(z, n).ok());
  n.capabilities |= kCapZstd;
  EXPECT_TRUE(CheckOptions(z, n).ok());
  SessionOptions big = Options();
  big.max_frame = kMaxMaxFrame;
  big.window = kMaxMaxFrame;
  EXPECT_FALSE(CheckOptions(big, n).ok());  // above the Hellos' smaller limit
}

TEST(Handshake, AckMustEchoTheProposal) {
  EXPECT_TRUE(CheckAck(Options(), OptionsAck{Options()}).ok());
  SessionOptions other = Options();
  other.del = true;
  EXPECT_FALSE(CheckAck(Options(), OptionsAck{other}).ok());
}

TEST(Handshake, LimitsFollowTheAgreedOptions) {
  SessionOptions o = Options();
  o.preserve |= kPreserveAtimes;
  const DecodeLimits l = LimitsFor(o);
  EXPECT_TRUE(l.hard_links);
  EXPECT_TRUE(l.atimes);
  EXPECT_FALSE(l.xattrs);
  EXPECT_FALSE(l.acls);
  EXPECT_FALSE(l.del);
}

}  // namespace
}  // namespace ferry::protocol
