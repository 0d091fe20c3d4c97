// cli/daemon_command.cc in-process: the daemon flags' behaviour a sysadmin
// sees (config check output, exit codes, SIGTERM), and how the client picks
// its secret and user name.
#include "cli/daemon_command.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/testing/temp_tree.h"

namespace ferry::cli {
namespace {

using ::ferry::testing::ReadFile;
using ::ferry::testing::MakeDirs;
using ::ferry::testing::TempDir;
using ::ferry::testing::WriteFile;

class DaemonCommandTest : public ::testing::Test {
 protected:
  DaemonCommandTest() {
    MakeDirs(dir_ / "www");
    config_ = dir_ / "ferryd.toml";
    WriteFile(config_,
              "[daemon]\nlisten = \"127.0.0.1:8730\"\n"
              "[modules.www]\npath = \"" + dir_ / "www" + "\"\nread_only = false\n"
              "comment = \"web roots\"\nsecrets = [\"alice:pw\", \"bob:pw2\"]\n",
              0600);
    chmod(config_.c_str(), 0600);
  }
  TempDir dir_;
  std::string config_;
};

protocol::SessionFn NoSession() {
  return [](const protocol::SessionContext&) { return Internal("no session expected"); };
}

TEST_F(DaemonCommandTest, CheckConfigPrintsModulesAndListenOverride) {
  DaemonFlags flags;
  flags.config = config_;
  flags.listen = "[::1]:9999";
  flags.check_config = true;
  ::testing::internal::CaptureStdout();
  const int rc = RunDaemon(flags, NoSession());
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find(config_ + ": OK, listen [::1]:9999"), std::string::npos) << out;
  EXPECT_NE(out.find("www"), std::string::npos) << out;
  EXPECT_NE(out.find(dir_ / "www" + " read-write, 2 users  # web roots"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("pw"), std::string::npos) << "a secret was printed:\n" << out;
}

TEST_F(DaemonCommandTest, BadConfigOrListenExitsOne) {
  DaemonFlags flags;
  flags.config = dir_ / "missing.toml";
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunDaemon(flags, NoSession()), 1);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("missing.toml"), std::string::npos) << err;
  flags.config = config_;
  flags.listen = "nonsense";
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunDaemon(flags, NoSession()), 1);
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("--listen: bad address 'nonsense'"), std::string::npos) << err;
}

TEST_F(DaemonCommandTest, SigtermEndsTheServeLoopWithExitZero) {
  DaemonFlags flags;
  flags.config = config_;
  flags.listen = "127.0.0.1:0";
  flags.port_file = dir_ / "port";
  int rc = -1;
  ::testing::internal::CaptureStderr();
  std::thread serve([&] { rc = RunDaemon(flags, NoSession()); });
  // Wait until the daemon's handler is in place, then signal.
  struct sigaction sa {};
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    sigaction(SIGTERM, nullptr, &sa);
    if (sa.sa_handler != SIG_DFL) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_NE(sa.sa_handler, SIG_DFL);
  // --port-file is written before the handler is installed.
  const std::string port = ReadFile(dir_ / "port");
  raise(SIGTERM);
  serve.join();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 0);
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(port.back(), '\n');
  EXPECT_NE(port, "0\n");
  EXPECT_NE(err.find("listening on 127.0.0.1:" + port.substr(0, port.size() - 1) + " "),
            std::string::npos) << "port file " << port << " vs log " << err;
  EXPECT_NE(err.find("shut down"), std::string::npos) << err;
  sigaction(SIGTERM, nullptr, &sa);
  EXPECT_EQ(sa.sa_handler, SIG_DFL) << "the default disposition is restored";
}

TEST_F(DaemonCommandTest, SecretComesFromPasswordFileThenEnvironment) {
  const std::string pw = dir_ / "pw";
  WriteFile(pw, "from-file\n", 0600);
  chmod(pw.c_str(), 0600);
  setenv("FERRY_PASSWORD", "from-env", 1);
  EXPECT_EQ(*DaemonSecret(pw), "from-file");
  EXPECT_EQ(*DaemonSecret(""), "from-env");
  unsetenv("FERRY_PASSWORD");
  Result<std::string> none = DaemonSecret("");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("--password-file FILE (mode 0600) or set FERRY_PASSWORD"),
            std::string::npos) << none.status().message();
  chmod(pw.c_str(), 0644);
  EXPECT_FALSE(DaemonSecret(pw).ok());
}

TEST(DaemonUser, TargetUserThenEnvironment) {
  EXPECT_EQ(DaemonUser("deploy"), "deploy");
  setenv("USER", "alice", 1);
  EXPECT_EQ(DaemonUser(""), "alice");
  unsetenv("USER");
  setenv("LOGNAME", "bob", 1);
  EXPECT_EQ(DaemonUser(""), "bob");
  unsetenv("LOGNAME");
  EXPECT_FALSE(DaemonUser("").empty());  // the effective uid's name
}

}  // namespace
}  // namespace ferry::cli
