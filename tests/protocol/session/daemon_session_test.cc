// The daemon's side of a session (protocol/session/daemon_session.h), with a
// hand-driven client that skips the checks `ferry sync` makes itself: a
// read-only module refuses the receiver role, and a request that is
// absolute, has "..", or goes through a symlink in the module is refused in
// the session handshake with a message the client receives.
#include "protocol/session/daemon_session.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "protocol/daemon_client.h"
#include "protocol/daemon_wire.h"
#include "tests/testing/temp_tree.h"

namespace ferry::protocol {
namespace {

using namespace std::chrono_literals;
using ::ferry::testing::Exists;
using ::ferry::testing::MakeDirs;
using ::ferry::testing::TempDir;
using ::ferry::testing::WriteFile;

class DaemonSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    MakeDirs(dir_ / "rw");
    MakeDirs(dir_ / "ro");
    MakeDirs(dir_ / "outside");
    WriteFile(dir_ / "outside/secret", "s");
    ASSERT_EQ(::symlink((dir_ / "outside").c_str(), (dir_ / "rw/link").c_str()), 0);
    DaemonConfig config;
    config.listen = HostPort{"127.0.0.1", 0};
    config.auth_timeout = 5s;
    DaemonModule rw{"rw", dir_ / "rw", false, "", {{"u", "pw"}}, {}};
    DaemonModule ro{"ro", dir_ / "ro", true, "", {{"u", "pw"}}, {}};
    config.modules = {rw, ro};
    auto d = Daemon::Listen(
        config,
        [](const SessionContext& ctx) {
          return ServeDaemonSession(ctx, io::BackendKind::kPosix, 5s);
        },
        [](const std::string& l) { std::fprintf(stderr, "daemon: %s\n", l.c_str()); });
    ASSERT_TRUE(d.ok()) << d.status().message();
    daemon_ = std::move(*d);
    server_ = std::thread([this] { (void)daemon_->Serve(); });
  }
  void TearDown() override {
    if (!daemon_) return;
    daemon_->RequestShutdown();
    server_.join();
  }

  // Authenticates, sends the request as given, and runs the session
  // handshake: the Status is what the client learns.
  Status Request(const std::string& module, DaemonRole role, const std::string& path) {
    DaemonTarget t{"", "127.0.0.1", daemon_->address().port, module, ""};
    ASSIGN_OR_RETURN(DaemonConnection c, ConnectDaemon(t, "u", "pw", 5s));
    std::vector<std::byte> out;
    AppendSessionRequest(SessionRequest{role, path}, &out);
    RETURN_IF_ERROR(WriteAll(c.fd.get(), out, std::chrono::steady_clock::now() + 5s, -1));
    const int fd = c.fd.release();
    ChannelConfig cc;
    cc.role = Role::kClient;
    return Channel::Connect(fd, fd, cc, ProposeOptions(SyncOptions{}, RemoteOptions{})).status();
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::thread server_;
};

TEST_F(DaemonSessionTest, ReadOnlyModuleRefusesTheReceiverRole) {
  Status s = Request("ro", DaemonRole::kReceiver, "new/");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("read-only"), std::string::npos) << s.message();
  EXPECT_FALSE(Exists(dir_ / "ro/new"));
  // The sender role of the same module is served, and so is a verify
  // side, which changes nothing.
  EXPECT_TRUE(Request("ro", DaemonRole::kSender, "").ok());
  Status v = Request("ro", DaemonRole::kVerifySide, "");
  EXPECT_TRUE(v.ok()) << v.message();
}

TEST_F(DaemonSessionTest, PathsLeavingTheModuleAreRefusedWithAReason) {
  struct Case {
    DaemonRole role;
    std::string path, reason;
  };
  for (const Case& c : {Case{DaemonRole::kSender, "/etc/", "absolute"},
                        Case{DaemonRole::kReceiver, "/tmp/x/", "absolute"},
                        Case{DaemonRole::kSender, "../outside/", ".."},
                        Case{DaemonRole::kReceiver, "a/../../outside/", ".."},
                        Case{DaemonRole::kSender, "link/", "symlink"},
                        Case{DaemonRole::kSender, "link/secret", "symlink"},
                        Case{DaemonRole::kReceiver, "link/", "symlink"},
                        Case{DaemonRole::kReceiver, "link/deeper/", "symlink"},
                        Case{DaemonRole::kVerifySide, "/etc/", "absolute"},
                        Case{DaemonRole::kVerifySide, "../outside/", ".."},
                        Case{DaemonRole::kVerifySide, "link/", "symlink"},
                        Case{DaemonRole::kVerifySide, "link/secret", "symlink"}}) {
    Status s = Request("rw", c.role, c.path);
    ASSERT_FALSE(s.ok()) << c.path;
    EXPECT_NE(s.message().find(c.reason), std::string::npos) << c.path << ": " << s.message();
  }
  EXPECT_FALSE(Exists(dir_ / "outside/deeper"));
  EXPECT_FALSE(Exists(dir_ / "rw/a"));
  // A missing path inside the module is the verify side's to report (the
  // copy is missing there), not a refusal.
  Status missing = Request("rw", DaemonRole::kVerifySide, "not/yet/");
  EXPECT_TRUE(missing.ok()) << missing.message();
  EXPECT_FALSE(Exists(dir_ / "rw/not"));
  // A path inside the module is served, and the receiver creates it.
  EXPECT_TRUE(Request("rw", DaemonRole::kReceiver, "in/side/").ok());
  EXPECT_TRUE(Exists(dir_ / "rw/in/side"));
}

}  // namespace
}  // namespace ferry::protocol
