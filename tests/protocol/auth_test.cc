#include "protocol/auth.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstdio>
#include <set>
#include <string>

#include "protocol/daemon_wire.h"
#include "protocol/path_check.h"
#include "protocol/messages.h"

namespace ferry::protocol {
namespace {

std::string Hex(const AuthMac& m) {
  std::string s;
  for (uint8_t b : m) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    s += buf;
  }
  return s;
}

AuthNonce CountingNonce() {
  AuthNonce n{};
  for (size_t i = 0; i < n.size(); ++i) n[i] = static_cast<uint8_t>(i);
  return n;
}

sockaddr_storage Peer(const char* v4) {
  sockaddr_storage s{};
  auto* in = reinterpret_cast<sockaddr_in*>(&s);
  in->sin_family = AF_INET;
  inet_pton(AF_INET, v4, &in->sin_addr);
  return s;
}

// The MAC layout of PROTOCOL.md section 11, computed independently with
// Python's hmac module: a client in another language must get the same.
TEST(Auth, MacMatchesTheSpecifiedLayout) {
  EXPECT_EQ(Hex(ComputeAuthMac("wonder land", CountingNonce(), "www", "alice")),
            "eedf057342505a00e134a39ecca60e418424d841a79ba1d8cfd9b0eea8e675f3");
}

TEST(Auth, MacBindsSecretNonceModuleAndUser) {
  const AuthNonce n = CountingNonce();
  AuthNonce n2 = n;
  n2[31] ^= 1;
  std::set<std::string> macs = {
      Hex(ComputeAuthMac("s", n, "www", "alice")),  Hex(ComputeAuthMac("t", n, "www", "alice")),
      Hex(ComputeAuthMac("s", n2, "www", "alice")), Hex(ComputeAuthMac("s", n, "wwx", "alice")),
      Hex(ComputeAuthMac("s", n, "www", "alicf")),
      // Length prefixes keep the split between module and user unambiguous.
      Hex(ComputeAuthMac("s", n, "ww", "walice")),
  };
  EXPECT_EQ(macs.size(), 6u);
}

TEST(Auth, NoncesAreFresh) {
  Result<AuthNonce> a = NewAuthNonce();
  Result<AuthNonce> b = NewAuthNonce();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_NE(*a, AuthNonce{});
}

TEST(Auth, MacEqualComparesEveryByte) {
  AuthMac a = ComputeAuthMac("s", CountingNonce(), "m", "u");
  AuthMac b = a;
  EXPECT_TRUE(AuthMacEqual(a, b));
  for (size_t i : {size_t{0}, size_t{17}, size_t{31}}) {
    b = a;
    b[i] ^= 0x80;
    EXPECT_FALSE(AuthMacEqual(a, b)) << "byte " << i;
  }
}

TEST(Auth, AuthenticateAcceptsOnlyTheRightSecretUserModuleAndHost) {
  DaemonConfig config;
  DaemonModule m;
  m.name = "www";
  m.path = "/srv/www";
  m.users = {{"alice", "wonder land"}, {"bob", "b0b"}};
  m.hosts_allow.push_back(*HostPattern::Parse("10.0.0.0/8"));
  config.modules.push_back(m);
  const AuthNonce n = CountingNonce();
  const sockaddr_storage inside = Peer("10.1.2.3");
  auto mac = [&](const char* secret, const char* mod, const char* user) {
    return ComputeAuthMac(secret, n, mod, user);
  };
  EXPECT_EQ(Authenticate(config, n, "www", "alice", mac("wonder land", "www", "alice"), inside),
            &config.modules[0]);
  EXPECT_EQ(Authenticate(config, n, "www", "bob", mac("b0b", "www", "bob"), inside),
            &config.modules[0]);
  // Wrong secret; alice's secret for bob; unknown user; unknown module;
  // a host outside hosts_allow; a MAC for another nonce.
  EXPECT_EQ(Authenticate(config, n, "www", "alice", mac("wonder", "www", "alice"), inside),
            nullptr);
  EXPECT_EQ(Authenticate(config, n, "www", "bob", mac("wonder land", "www", "bob"), inside),
            nullptr);
  EXPECT_EQ(Authenticate(config, n, "www", "eve", mac("x", "www", "eve"), inside), nullptr);
  EXPECT_EQ(Authenticate(config, n, "ftp", "alice", mac("wonder land", "ftp", "alice"), inside),
            nullptr);
  EXPECT_EQ(Authenticate(config, n, "www", "alice", mac("wonder land", "www", "alice"),
                         Peer("192.168.0.1")),
            nullptr);
  AuthNonce other = n;
  other[0] ^= 1;
  EXPECT_EQ(Authenticate(config, other, "www", "alice", mac("wonder land", "www", "alice"),
                         inside),
            nullptr);
}

Frame OneFrame(const std::vector<std::byte>& bytes) {
  FrameDecoder d(kHandshakeMaxFrame);
  std::optional<Frame> f;
  Result<size_t> used = d.Feed(bytes, &f);
  EXPECT_TRUE(used.ok() && f && *used == bytes.size());
  return f ? *f : Frame{};
}

TEST(DaemonWire, MessagesRoundTrip) {
  std::vector<std::byte> b;
  AuthChallenge c{CountingNonce()};
  AppendAuthChallenge(c, &b);
  EXPECT_EQ(*DecodeAuthChallenge(OneFrame(b)), c);
  b.clear();
  AuthResponse r{"www", "alice", ComputeAuthMac("s", CountingNonce(), "www", "alice")};
  AppendAuthResponse(r, &b);
  EXPECT_EQ(*DecodeAuthResponse(OneFrame(b)), r);
  b.clear();
  AuthResult ok{true, true, ""};
  AppendAuthResult(ok, &b);
  EXPECT_EQ(*DecodeAuthResult(OneFrame(b)), ok);
}

TEST(DaemonWire, DecodersRefuseHostileFields) {
  auto frame = [](DaemonMsgType t, std::vector<uint8_t> payload) {
    Frame f;
    f.tag = static_cast<uint8_t>(t);
    for (uint8_t b : payload) f.payload.push_back(std::byte{b});
    return f;
  };
  // A challenge one byte short, and one byte long.
  EXPECT_FALSE(DecodeAuthChallenge(frame(DaemonMsgType::kAuthChallenge,
                                         std::vector<uint8_t>(31))).ok());
  Result<AuthChallenge> longer =
      DecodeAuthChallenge(frame(DaemonMsgType::kAuthChallenge, std::vector<uint8_t>(33)));
  ASSERT_FALSE(longer.ok());
  EXPECT_NE(longer.status().message().find("trailing"), std::string::npos)
      << longer.status().message();
  // A module name longer than 255 bytes is refused from its length alone.
  Result<AuthResponse> big = DecodeAuthResponse(frame(DaemonMsgType::kAuthResponse, {0x80, 0x08}));
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("AuthResponse: module"), std::string::npos)
      << big.status().message();
  // A module name with a '/' (a path smuggled in as a module).
  std::vector<uint8_t> slash = {4, '.', '.', '/', 'x', 1, 'u'};
  slash.resize(slash.size() + 32);
  EXPECT_FALSE(DecodeAuthResponse(frame(DaemonMsgType::kAuthResponse, slash)).ok());
  // An empty user.
  std::vector<uint8_t> nouser = {3, 'w', 'w', 'w', 0};
  nouser.resize(nouser.size() + 32);
  EXPECT_FALSE(DecodeAuthResponse(frame(DaemonMsgType::kAuthResponse, nouser)).ok());
  // Booleans other than 0/1; a wrong tag; flags.
  EXPECT_FALSE(DecodeAuthResult(frame(DaemonMsgType::kAuthResult, {2, 0, 0})).ok());
  Result<AuthResult> wrong = DecodeAuthResult(frame(DaemonMsgType::kAuthChallenge, {1, 0, 0}));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("expected AuthResult, got a frame with tag 0x70"),
            std::string::npos) << wrong.status().message();
  Frame flagged = frame(DaemonMsgType::kAuthResult, {1, 0, 0});
  flagged.flags = kFrameCompressed;
  EXPECT_FALSE(DecodeAuthResult(flagged).ok());
  // A server may not claim success before any authentication.
  AuthChallenge c;
  std::optional<AuthResult> refusal;
  EXPECT_FALSE(DecodeServerGreeting(frame(DaemonMsgType::kAuthResult, {1, 0, 0}), &c, &refusal)
                   .ok());
}

TEST(DaemonWire, SessionRequestRoundTripsWithItsTrailingSlash) {
  for (const SessionRequest& m :
       {SessionRequest{DaemonRole::kSender, ""}, SessionRequest{DaemonRole::kReceiver, "a/b/"},
        SessionRequest{DaemonRole::kSender, "a/b"}, SessionRequest{DaemonRole::kSender, "."},
        SessionRequest{DaemonRole::kVerifySide, "www/"}}) {
    std::vector<std::byte> b;
    AppendSessionRequest(m, &b);
    Result<SessionRequest> got = DecodeSessionRequest(OneFrame(b));
    ASSERT_TRUE(got.ok()) << m.path << ": " << got.status().message();
    EXPECT_EQ(*got, m);
  }
}

TEST(DaemonWire, SessionRequestRefusesPathsThatLeaveTheModule) {
  auto decode = [](uint8_t role, const std::string& path) {
    std::vector<std::byte> b;
    AppendSessionRequest(SessionRequest{DaemonRole::kSender, path}, &b);
    Frame f = OneFrame(b);
    f.payload[0] = std::byte{role};
    return DecodeSessionRequest(f);
  };
  for (const std::string& bad : std::vector<std::string>{"/etc", "/", "//etc/", "../x", "a/../../x", "a/./b", "a//b",
                                std::string("a\nb"), std::string("a\0b", 3)}) {
    Result<SessionRequest> r = decode(0, bad);
    ASSERT_FALSE(r.ok()) << QuotePath(bad);
    EXPECT_NE(r.status().message().find("SessionRequest"), std::string::npos)
        << r.status().message();
  }
  Result<SessionRequest> abs = decode(1, "/etc/");
  ASSERT_FALSE(abs.ok());
  EXPECT_NE(abs.status().message().find("absolute"), std::string::npos) << abs.status().message();
  // The verify side (2) is held to the same path rules; 3 is no role.
  EXPECT_FALSE(decode(2, "a/../../x").ok());
  Result<SessionRequest> role = decode(3, "x");
  ASSERT_FALSE(role.ok());
  EXPECT_NE(role.status().message().find("role"), std::string::npos) << role.status().message();
  // A length past the limit is refused from the length alone; trailing bytes too.
  Frame big;
  big.tag = static_cast<uint8_t>(DaemonMsgType::kSessionRequest);
  for (uint8_t b : {0, 0xa1, 0x1f}) big.payload.push_back(std::byte{b});  // 4001
  EXPECT_FALSE(DecodeSessionRequest(big).ok());
  std::vector<std::byte> b;
  AppendSessionRequest(SessionRequest{DaemonRole::kSender, "x"}, &b);
  Frame f = OneFrame(b);
  f.payload.push_back(std::byte{0});
  EXPECT_FALSE(DecodeSessionRequest(f).ok());
}

TEST(DaemonWire, SessionRequestOfEarlierClientsDecodesUnchanged) {
  // Role bytes 0 and 1 keep their meaning: a request an older client sends
  // (role, then the path) decodes as before.
  const std::vector<std::byte> payload = {std::byte{1}, std::byte{3}, std::byte{'w'},
                                          std::byte{'w'}, std::byte{'/'}};
  std::vector<std::byte> b;
  ASSERT_TRUE(AppendFrame(static_cast<uint8_t>(DaemonMsgType::kSessionRequest), 0, payload,
                          kHandshakeMaxFrame, &b)
                  .ok());
  Result<SessionRequest> got = DecodeSessionRequest(OneFrame(b));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, (SessionRequest{DaemonRole::kReceiver, "ww/"}));
}

TEST(DaemonWire, TagsAreNotSessionMessages) {
  // The session codec must refuse daemon messages (tags are never shared).
  for (auto t : {DaemonMsgType::kAuthChallenge, DaemonMsgType::kAuthResponse,
                 DaemonMsgType::kAuthResult, DaemonMsgType::kSessionRequest})
    EXPECT_FALSE(IsKnownType(static_cast<uint8_t>(t)));
}

}  // namespace
}  // namespace ferry::protocol
