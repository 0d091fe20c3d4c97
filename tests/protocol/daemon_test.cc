// The daemon over loopback TCP: a real listener, real clients, and an echo
// session standing in for the file-transfer session.
#include "protocol/daemon.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "protocol/daemon_client.h"
#include "protocol/daemon_wire.h"
#include "protocol/handshake.h"
#include "tests/testing/temp_tree.h"

namespace ferry::protocol {
namespace {

using namespace std::chrono_literals;
using ::ferry::testing::MakeDirs;
using ::ferry::testing::TempDir;
using Clock = std::chrono::steady_clock;

// Echoes what it reads until EOF, and records who it served.
class EchoSessions {
 public:
  SessionFn Fn() {
    return [this](const SessionContext& ctx) {
      {
        std::lock_guard lock(mu_);
        seen_.push_back(ctx);
      }
      char buf[256];
      for (;;) {
        ssize_t n = read(ctx.in_fd, buf, sizeof buf);
        if (n == 0) return Status::Ok();
        if (n < 0) return PosixError("read", "echo", errno);
        if (write(ctx.out_fd, buf, static_cast<size_t>(n)) != n)
          return PosixError("write", "echo", errno);
      }
    };
  }
  std::vector<SessionContext> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<SessionContext> seen_;
};

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest() {
    MakeDirs(dir_ / "www");
    MakeDirs(dir_ / "backup");
    config_.listen = HostPort{"127.0.0.1", 0};
    config_.auth_failure_delay = 150ms;
    config_.auth_timeout = 2s;
    config_.shutdown_grace = 2s;
    DaemonModule www;
    www.name = "www";
    www.path = dir_ / "www";
    www.read_only = true;
    www.users = {{"alice", "wonder land"}};
    DaemonModule backup;
    backup.name = "backup";
    backup.path = dir_ / "backup";
    backup.read_only = false;
    backup.users = {{"bob", "b0b"}, {"alice", "other"}};
    DaemonModule fenced;
    fenced.name = "fenced";
    fenced.path = dir_ / "www";
    fenced.users = {{"alice", "wonder land"}};
    fenced.hosts_allow.push_back(*HostPattern::Parse("10.0.0.0/8"));
    config_.modules = {www, backup, fenced};
  }

  ~DaemonTest() override { Stop(); }

  void Start() {
    Result<std::unique_ptr<Daemon>> d = Daemon::Listen(config_, echo_.Fn(), [this](const std::string& l) {
      std::lock_guard lock(log_mu_);
      log_ += l + "\n";
    });
    ASSERT_TRUE(d.ok()) << d.status().message();
    daemon_ = std::move(*d);
    server_ = std::thread([this] { serve_status_ = daemon_->Serve(); });
  }

  void Stop() {
    if (!daemon_) return;
    daemon_->RequestShutdown();
    server_.join();
    daemon_.reset();
  }

  DaemonTarget Target(const std::string& module) {
    return DaemonTarget{"", "127.0.0.1", daemon_->address().port, module, ""};
  }

  Result<DaemonConnection> Connect(const std::string& module, const std::string& user,
                                   const std::string& secret) {
    return ConnectDaemon(Target(module), user, secret, 5s);
  }

  // A plain TCP connection, for speaking raw bytes.
  int RawConnect() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(daemon_->address().port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }

  // Reads until EOF or error (a reset counts as closed); false on timeout.
  static bool ClosedWithin(int fd, std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    char buf[512];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      if (recv(fd, buf, sizeof buf, 0) <= 0) return true;
    }
  }

  static void Send(int fd, const std::vector<std::byte>& b) {
    ASSERT_EQ(send(fd, b.data(), b.size(), MSG_NOSIGNAL), static_cast<ssize_t>(b.size()));
  }

  // A correct client still gets served (the daemon survived whatever came before).
  void ExpectStillServing() {
    Result<DaemonConnection> c = Connect("www", "alice", "wonder land");
    ASSERT_TRUE(c.ok()) << c.status().message();
  }

  std::string Log() {
    std::lock_guard lock(log_mu_);
    return log_;
  }

  TempDir dir_;
  DaemonConfig config_;
  EchoSessions echo_;
  std::unique_ptr<Daemon> daemon_;
  std::thread server_;
  Status serve_status_;
  std::mutex log_mu_;
  std::string log_;
};

TEST_F(DaemonTest, SessionGetsTheModuleRootModeAndUser) {
  Start();
  Result<DaemonConnection> c = Connect("backup", "bob", "b0b");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->read_only);
  const std::string ping = "ping over the session";
  ASSERT_EQ(write(c->fd.get(), ping.data(), ping.size()), static_cast<ssize_t>(ping.size()));
  std::string got(ping.size(), '\0');
  ASSERT_EQ(recv(c->fd.get(), got.data(), got.size(), MSG_WAITALL),
            static_cast<ssize_t>(got.size()));
  EXPECT_EQ(got, ping);

  Result<DaemonConnection> r = Connect("www", "alice", "wonder land");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->read_only);
  c->fd.reset();
  r->fd.reset();
  Stop();
  std::vector<SessionContext> seen = echo_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].module, "backup");
  EXPECT_EQ(seen[0].root, dir_ / "backup");
  EXPECT_FALSE(seen[0].read_only);
  EXPECT_EQ(seen[0].user, "bob");
  EXPECT_EQ(seen[0].peer, "127.0.0.1");
  EXPECT_EQ(seen[0].in_fd, seen[0].out_fd);
  EXPECT_EQ(seen[1].module, "www");
  EXPECT_EQ(seen[1].root, dir_ / "www");
  EXPECT_TRUE(seen[1].read_only);
  EXPECT_TRUE(serve_status_.ok()) << serve_status_.message();
  EXPECT_EQ(Log().find("wonder land"), std::string::npos) << "a secret reached the log";
}

// Wrong secret, unknown user, unknown module, a user of another module, a
// host outside hosts_allow: the client sees the same error after the same
// delay, and no session runs.
TEST_F(DaemonTest, EveryAuthFailureLooksTheSame) {
  Start();
  struct Case {
    const char* what;
    const char* module;
    const char* user;
    const char* secret;
  } cases[] = {
      {"wrong secret", "www", "alice", "wonder"},
      {"unknown user", "www", "mallory", "wonder land"},
      {"unknown module", "nosuch", "alice", "wonder land"},
      {"user of another module", "www", "bob", "b0b"},
      {"host not allowed", "fenced", "alice", "wonder land"},
  };
  const std::string expected =
      "ferry daemon 127.0.0.1:" + std::to_string(daemon_->address().port) +
      ": authentication failed";
  for (const Case& c : cases) {
    const auto start = Clock::now();
    Result<DaemonConnection> r = Connect(c.module, c.user, c.secret);
    const auto took = Clock::now() - start;
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), ErrorCode::kPermission) << c.what;
    EXPECT_EQ(r.status().message(), expected) << c.what;
    EXPECT_GE(took, config_.auth_failure_delay) << c.what;
  }
  EXPECT_TRUE(echo_.seen().empty());
}

TEST_F(DaemonTest, SilentClientIsCutOffAtTheDeadline) {
  config_.auth_timeout = 300ms;
  Start();
  int fd = RawConnect();
  const auto start = Clock::now();
  EXPECT_TRUE(ClosedWithin(fd, 3s));
  EXPECT_GE(Clock::now() - start, 250ms);
  close(fd);
  EXPECT_NE(Log().find("timed out"), std::string::npos) << Log();
  ExpectStillServing();
}

// One byte every 50 ms never lets a per-read timeout fire; the deadline is
// for the whole phase.
TEST_F(DaemonTest, TricklingClientIsCutOffAtTheDeadline) {
  config_.auth_timeout = 400ms;
  Start();
  int fd = RawConnect();
  const auto start = Clock::now();
  std::vector<std::byte> greeting(kStreamMagic.begin(), kStreamMagic.end());
  AuthResponse resp{"www", "alice", {}};
  AppendAuthResponse(resp, &greeting);
  bool closed = false;
  for (size_t i = 0; i < greeting.size() && Clock::now() - start < 3s; ++i) {
    if (send(fd, &greeting[i], 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      char buf[256];
      if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) == 0) {
        closed = true;
        break;
      }
    }
  }
  closed = closed || ClosedWithin(fd, 3s);
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - start, 2s);
  close(fd);
  EXPECT_TRUE(echo_.seen().empty());
}

TEST_F(DaemonTest, ConnectionLimitTurnsTheNextClientAway) {
  config_.max_connections = 2;
  config_.auth_timeout = 5s;
  Start();
  int a = RawConnect();
  int b = RawConnect();
  // Both are accepted (their challenge arrives) and now sit before auth.
  for (int fd : {a, b}) {
    std::vector<std::byte> buf(8);
    ASSERT_EQ(recv(fd, buf.data(), buf.size(), MSG_WAITALL), 8);
  }
  Result<DaemonConnection> r = Connect("www", "alice", "wonder land");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("server busy: 2 connections (max_connections)"),
            std::string::npos) << r.status().message();
  close(a);
  const auto start = Clock::now();
  while (daemon_->active_connections() > 1 && Clock::now() - start < 3s)
    std::this_thread::sleep_for(10ms);
  ExpectStillServing();
  close(b);
}

TEST_F(DaemonTest, OversizedFrameBeforeAuthIsRefusedFromItsHeader) {
  Start();
  int fd = RawConnect();
  std::vector<std::byte> b(kStreamMagic.begin(), kStreamMagic.end());
  // An AuthResponse header claiming 1 GiB; no payload follows.
  for (uint8_t v : {uint8_t{0x71}, uint8_t{0}, uint8_t{0}, uint8_t{0}, uint8_t{0}, uint8_t{0x40}})
    b.push_back(std::byte{v});
  Send(fd, b);
  EXPECT_TRUE(ClosedWithin(fd, 1s));  // well before auth_timeout (2 s)
  close(fd);
  EXPECT_NE(Log().find("exceeds the maximum frame size 4096"), std::string::npos) << Log();
  EXPECT_TRUE(echo_.seen().empty());
  ExpectStillServing();
}

TEST_F(DaemonTest, GarbageAndWrongMessagesAreRefused) {
  Start();
  {
    int fd = RawConnect();
    const std::string http = "GET / HTTP/1.0\r\n\r\n";
    Send(fd, std::vector<std::byte>(reinterpret_cast<const std::byte*>(http.data()),
                                    reinterpret_cast<const std::byte*>(http.data()) + http.size()));
    EXPECT_TRUE(ClosedWithin(fd, 1s));
    close(fd);
  }
  {
    // A session greeting (Hello) where the AuthResponse belongs.
    int fd = RawConnect();
    Send(fd, EncodeGreeting(LocalHello(Role::kClient, 0)));
    EXPECT_TRUE(ClosedWithin(fd, 1s));
    close(fd);
  }
  EXPECT_NE(Log().find("not speaking the ferry protocol"), std::string::npos) << Log();
  EXPECT_NE(Log().find("expected AuthResponse, got a frame with tag 0x01"), std::string::npos)
      << Log();
  EXPECT_TRUE(echo_.seen().empty());
  ExpectStillServing();
}

TEST_F(DaemonTest, EarlyCloseAtEveryStepLeavesTheDaemonServing) {
  Start();
  close(RawConnect());  // before reading anything
  {
    int fd = RawConnect();
    std::vector<std::byte> b(kStreamMagic.begin(), kStreamMagic.end());
    AuthResponse resp{"www", "alice", {}};
    AppendAuthResponse(resp, &b);
    const size_t half = b.size() / 2;  // half a response, then gone
    ASSERT_EQ(send(fd, b.data(), half, MSG_NOSIGNAL), static_cast<ssize_t>(half));
    close(fd);
  }
  {
    // A client that authenticates, then leaves at once.
    Result<DaemonConnection> c = Connect("www", "alice", "wonder land");
    ASSERT_TRUE(c.ok()) << c.status().message();
  }
  ExpectStillServing();
  const auto start = Clock::now();
  while (daemon_->active_connections() > 0 && Clock::now() - start < 3s)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(daemon_->active_connections(), 0);
}

TEST_F(DaemonTest, ClientRefusesSomethingThatIsNotAFerryDaemon) {
  // A listener that greets like an rsync daemon.
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(lfd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread fake([lfd] {
    int fd = accept(lfd, nullptr, nullptr);
    const char banner[] = "@RSYNCD: 31.0\n";
    ssize_t n = send(fd, banner, sizeof banner - 1, MSG_NOSIGNAL);
    (void)n;
    char buf[64];
    while (recv(fd, buf, sizeof buf, 0) > 0) {
    }
    close(fd);
  });
  Result<DaemonConnection> c =
      ConnectDaemon(DaemonTarget{"", "127.0.0.1", ntohs(a.sin_port), "www", ""}, "alice", "x", 2s);
  fake.join();
  close(lfd);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("'@RSYNCD:'"), std::string::npos) << c.status().message();
}

TEST_F(DaemonTest, ShutdownLetsSessionsFinishWithinTheGrace) {
  config_.shutdown_grace = 300ms;
  Start();
  Result<DaemonConnection> c = Connect("www", "alice", "wonder land");
  ASSERT_TRUE(c.ok()) << c.status().message();
  int idle = RawConnect();  // still before authentication
  const auto start = Clock::now();
  daemon_->RequestShutdown();
  server_.join();  // the echo session never ends by itself: the grace runs out
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(serve_status_.ok()) << serve_status_.message();
  EXPECT_TRUE(ClosedWithin(c->fd.get(), 1s));
  EXPECT_TRUE(ClosedWithin(idle, 1s));
  close(idle);
  EXPECT_NE(Log().find("shutdown grace"), std::string::npos) << Log();
  // New connections are refused now.
  EXPECT_FALSE(ConnectDaemon(Target("www"), "alice", "wonder land", 1s).ok());
  daemon_.reset();
}

TEST_F(DaemonTest, SigtermStopsTheDaemon) {
  Start();
  ASSERT_TRUE(InstallShutdownSignals(daemon_.get()).ok());
  struct sigaction pipe {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &pipe), 0);
  EXPECT_EQ(pipe.sa_handler, SIG_IGN) << "a vanished client would kill the daemon";
  ASSERT_EQ(raise(SIGTERM), 0);
  server_.join();
  EXPECT_TRUE(serve_status_.ok()) << serve_status_.message();
  EXPECT_NE(Log().find("shut down"), std::string::npos) << Log();
  ASSERT_TRUE(InstallShutdownSignals(nullptr).ok());
  daemon_.reset();
}

TEST_F(DaemonTest, ListenErrorsNameTheAddress) {
  Start();
  DaemonConfig taken = config_;
  taken.listen = daemon_->address();
  taken.listen.host = "127.0.0.1";
  Result<std::unique_ptr<Daemon>> d = Daemon::Listen(taken, echo_.Fn(), nullptr);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("cannot listen on 127.0.0.1:" +
                                      std::to_string(daemon_->address().port)),
            std::string::npos) << d.status().message();
}

// The daemon reads exactly the bytes of the exchange: whatever the client
// sends right after its AuthResponse (the session greeting) reaches the
// session untouched.
TEST_F(DaemonTest, BytesAfterTheAuthResponseBelongToTheSession) {
  Start();
  int fd = RawConnect();
  std::vector<std::byte> in(8 + kFrameHeaderSize + kAuthNonceSize);
  ASSERT_EQ(recv(fd, in.data(), in.size(), MSG_WAITALL), static_cast<ssize_t>(in.size()));
  FrameDecoder d(kHandshakeMaxFrame);
  std::optional<Frame> f;
  ASSERT_TRUE(d.Feed(std::span(in).subspan(8), &f).ok());
  ASSERT_TRUE(f.has_value());
  Result<AuthChallenge> ch = DecodeAuthChallenge(*f);
  ASSERT_TRUE(ch.ok()) << ch.status().message();
  std::vector<std::byte> out(kStreamMagic.begin(), kStreamMagic.end());
  AuthResponse resp{"www", "alice", ComputeAuthMac("wonder land", ch->nonce, "www", "alice")};
  AppendAuthResponse(resp, &out);
  const std::string early = "session greeting sent early";
  for (char c : early) out.push_back(static_cast<std::byte>(c));
  Send(fd, out);  // one send: the daemon sees it all at once
  Result<Frame> result = ReadHandshakeFrame(fd, Clock::now() + 2s, -1, "AuthResult");
  ASSERT_TRUE(result.ok()) << result.status().message();
  Result<AuthResult> r = DecodeAuthResult(*result);
  ASSERT_TRUE(r.ok() && r->ok);
  std::string echoed(early.size(), '\0');
  ASSERT_EQ(recv(fd, echoed.data(), echoed.size(), MSG_WAITALL),
            static_cast<ssize_t>(echoed.size()));
  EXPECT_EQ(echoed, early);
  close(fd);
}

TEST_F(DaemonTest, ClientTimesOutOnASilentServer) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(lfd, 1), 0);  // the kernel completes the connect; nobody answers
  socklen_t len = sizeof a;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  const auto start = Clock::now();
  Result<DaemonConnection> c = ConnectDaemon(
      DaemonTarget{"", "127.0.0.1", ntohs(a.sin_port), "www", ""}, "alice", "x", 300ms);
  const auto took = Clock::now() - start;
  close(lfd);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("timed out waiting for the stream magic"),
            std::string::npos) << c.status().message();
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

// "*:PORT" is one dual-stack socket: IPv4 clients arrive as mapped
// addresses and are shown (and matched by hosts_allow) as IPv4.
TEST_F(DaemonTest, WildcardListenServesIpv4AndIpv6) {
  config_.listen = HostPort{"", 0};
  Start();
  Result<DaemonConnection> v4 = Connect("www", "alice", "wonder land");
  ASSERT_TRUE(v4.ok()) << v4.status().message();
  v4->fd.reset();
  Result<DaemonConnection> v6 = ConnectDaemon(
      DaemonTarget{"", "::1", daemon_->address().port, "www", ""}, "alice", "wonder land", 5s);
  const bool have_v6 = v6.ok();
  if (have_v6) v6->fd.reset();
  Stop();
  std::set<std::string> peers;
  for (const SessionContext& ctx : echo_.seen()) peers.insert(ctx.peer);
  EXPECT_EQ(peers.count("127.0.0.1"), 1u);
  if (!have_v6) GTEST_SKIP() << "no IPv6 loopback: " << v6.status().message();
  EXPECT_EQ(peers, (std::set<std::string>{"127.0.0.1", "::1"}));
}

TEST_F(DaemonTest, ListensOnIpv6Loopback) {
  config_.listen = HostPort{"::1", 0};
  Result<std::unique_ptr<Daemon>> d = Daemon::Listen(config_, echo_.Fn(), nullptr);
  if (!d.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << d.status().message();
  daemon_ = std::move(*d);
  server_ = std::thread([this] { serve_status_ = daemon_->Serve(); });
  Result<DaemonConnection> c =
      ConnectDaemon(DaemonTarget{"", "::1", daemon_->address().port, "www", ""}, "alice",
                    "wonder land", 5s);
  ASSERT_TRUE(c.ok()) << c.status().message();
  c->fd.reset();
  Stop();
  ASSERT_EQ(echo_.seen().size(), 1u);
  EXPECT_EQ(echo_.seen()[0].peer, "::1");
}

}  // namespace
}  // namespace ferry::protocol
