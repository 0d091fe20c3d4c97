// Hooks: exit codes and output come back, a timeout kills the whole process
// group (children included), and a hook on an ssh endpoint goes through the
// plan's remote shell with the host and the command as separate arguments.
#include "engine/plan/command.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "engine/base/fd_limit.h"
#include "tests/testing/temp_tree.h"

namespace ferry::plan {
namespace {

using ferry::testing::ReadFile;
using ferry::testing::TempDir;
using ferry::testing::WriteFile;

TEST(PlanCommand, ExitCodeAndOutput) {
  auto r = RunCommand({"echo out; echo err >&2; exit 3", 10'000});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->output, "out\nerr\n");
  EXPECT_EQ(r->Describe(), "exit 3");
}

// ferry raises its own descriptor limit (main); a hook must get the soft
// limit ferry started with, not the raised one.
TEST(PlanCommand, HookGetsTheDescriptorLimitFerryStartedWith) {
  struct rlimit start {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &start), 0);
  if (start.rlim_max != RLIM_INFINITY && start.rlim_max <= 256) GTEST_SKIP() << "hard limit too low";
  struct rlimit low = start;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  RaiseDescriptorLimit();
  struct rlimit raised {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &raised), 0);
  EXPECT_GT(raised.rlim_cur, 256u);
  auto r = RunCommand({"ulimit -Sn", 10'000});
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &start), 0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->output, "256\n");
}

TEST(PlanCommand, TimeoutKillsTheProcessGroup) {
  TempDir tmp;
  std::string pidfile = tmp.path() + "/child.pid";
  // The shell starts a child that would outlive it; both must die.
  auto r = RunCommand({"sleep 30 & echo $! > " + pidfile + "; wait", 300});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->ok());
  EXPECT_LT(r->seconds, 5.0);
  pid_t child = std::stoi(ReadFile(pidfile));
  // The child is gone (or a zombie about to be reaped by init).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::string st = ReadFile("/proc/" + std::to_string(child) + "/stat");
    gone = st.empty() || st.find(") Z") != std::string::npos;
    if (!gone) ::usleep(20'000);
  }
  EXPECT_TRUE(gone) << "sleep " << child << " survived the timeout";
}

TEST(PlanCommand, BackgroundChildDoesNotHoldTheHook) {
  auto r = RunCommand({"(sleep 5 &) ; echo started", 10'000});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_LT(r->seconds, 3.0);
}

TEST(PlanCommand, RemoteGoesThroughRsh) {
  TempDir tmp;
  // A remote-shell stand-in: records its arguments, then runs the command
  // locally the way sshd would (with a shell).
  std::string fake = tmp.path() + "/fake-ssh";
  std::string log = tmp.path() + "/args";
  WriteFile(fake, "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done > " + log +
                      "\nwhile [ $# -gt 1 ]; do shift; done\nexec /bin/sh -c \"$1\"\n");
  ASSERT_EQ(::chmod(fake.c_str(), 0755), 0);
  CommandSpec c;
  c.command = "echo \"it's $((1+2))\"";
  c.rsh = fake + " -p 2222";
  c.user = "root";
  c.host = "web2.example.net";
  auto r = RunCommand(c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->output;
  EXPECT_EQ(r->output, "it's 3\n");
  EXPECT_EQ(ReadFile(log), "[-p][2222][root@web2.example.net][echo \"it's $((1+2))\"]");
}

}  // namespace
}  // namespace ferry::plan
