// `ferry plan run` with a ferry daemon endpoint: a real `ferry serve
// --listen 127.0.0.1:0 --config C --port-file F` on loopback, the plan's
// endpoint `{ url = "ferry://alice@127.0.0.1:PORT/data/srv", password_file =
// ... }`:
//  * stage one and a delta pass push into the module, with the path set's
//    filter; rsync (with the same exclude) judges the module's tree;
//  * a wrong secret stops the pass with the daemon's refusal and writes
//    nothing; without a password_file the secret comes from FERRY_PASSWORD,
//    and with neither the error names the endpoint and what to give it;
//  * `plan check` rejects password_file on a non-daemon endpoint, and a
//    cutover into a daemon end is valid without a warning;
//  * a cutover into the module is verified through the daemon (its verify
//    side) and then runs its switch hook; a destination file corrupted
//    behind the daemon (same size and mtime) stops it before the switch,
//    and the error and the report name the path.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

using ferry::testing::Shell;

constexpr char kSecret[] = "correct horse";

class PlanDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Shell("command -v rsync >/dev/null 2>&1") != 0) GTEST_SKIP() << "rsync is not installed";
    ::unsetenv("FERRY_PASSWORD");
    old_ = tmp_ / "old";
    module_ = tmp_ / "module";
    MakeDirs(old_ + "/site");
    MakeDirs(module_);
    plan_ = tmp_ / "plan.toml";
    secret_file_ = tmp_ / "secret";
    WriteFile(secret_file_, std::string(kSecret) + "\n", 0600);
    const std::string config = tmp_ / "ferryd.toml";
    WriteFile(config,
              "[modules.data]\n"
              "path = \"" + module_ + "\"\n"
              "read_only = false\n"
              "secrets = [\"alice:" + kSecret + "\"]\n",
              0600);
    const std::string port_file = tmp_ / "port";
    const std::string log = tmp_ / "daemon.log";
    daemon_ = ::fork();
    ASSERT_GE(daemon_, 0);
    if (daemon_ == 0) {
      int e = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (e >= 0) ::dup2(e, 2);
      ::execl(Ferry().c_str(), Ferry().c_str(), "serve", "--listen", "127.0.0.1:0", "--config",
              config.c_str(), "--port-file", port_file.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !Exists(port_file); ++i) ::usleep(10000);
    ASSERT_TRUE(Exists(port_file)) << "the daemon did not start:\n" << ReadFile(log);
    port_ = std::stoi(ReadFile(port_file));
  }

  void TearDown() override {
    ::unsetenv("FERRY_PASSWORD");
    if (daemon_ > 0) {
      ::kill(daemon_, SIGTERM);
      int status = 0;
      ::waitpid(daemon_, &status, 0);
    }
  }

  // The plan: old (local) -> the daemon module's "srv", stage one and delta.
  void WritePlan(const std::string& endpoint) {
    WriteFile(plan_, "[endpoints]\nold = \"" + old_ + "\"\nnew = " + endpoint + R"(
[[phases]]
kind = "stage-one"
[[phases]]
kind = "delta"
until_bytes = 1
max_passes = 3
[[accounts]]
name = "site"
source = "old"
destination = "new"
  [[accounts.paths]]
  path = "site"
  filter = ["- cache/"]
)");
  }
  std::string Url() const {
    return "ferry://alice@127.0.0.1:" + std::to_string(port_) + "/data/srv";
  }

  Proc Plan(std::vector<std::string> args) {
    std::vector<std::string> argv = {Ferry(), "plan"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, tmp_.path());
  }

  std::string Oracle(const std::string& src, const std::string& dst) {
    std::string out;
    Shell("rsync -aHAXc --dry-run --itemize-changes --delete --modify-window=-1 "
          "--exclude=cache/ '" + src + "/' '" + dst + "/' 2>&1",
          &out);
    return out;
  }

  TempDir tmp_;
  std::string old_, module_, plan_, secret_file_;
  pid_t daemon_ = -1;
  int port_ = 0;
};

TEST_F(PlanDaemonTest, StageOneAndDeltaIntoADaemonModule) {
  WriteFile(old_ + "/site/index.html", "<h1>hello</h1>");
  WriteFile(old_ + "/site/data/big.bin", Pattern(200 * 1024, 4));
  WriteFile(old_ + "/site/cache/tmp.bin", Pattern(4096, 9));
  WritePlan("{ url = \"" + Url() + "\", password_file = \"" + secret_file_ + "\" }");
  Proc check = Plan({"check", plan_});
  ASSERT_EQ(check.code, 0) << check.Dump();

  Proc s1 = Plan({"run", plan_, "--phase", "stage-one"});
  ASSERT_EQ(s1.code, 0) << s1.Dump();
  EXPECT_NE(s1.out.find(old_ + "/site/ -> " + Url() + "/site/"), std::string::npos) << s1.Dump();
  EXPECT_EQ(ReadFile(module_ + "/srv/site/index.html"), "<h1>hello</h1>");
  EXPECT_FALSE(Exists(module_ + "/srv/site/cache")) << "the filter was dropped";
  EXPECT_EQ(Oracle(old_ + "/site", module_ + "/srv/site"), "");

  // A change on the source: the delta pass moves exactly it.
  WriteFile(old_ + "/site/index.html", "<h1>HELLO, world</h1>");
  Proc d = Plan({"run", plan_, "--phase", "delta", "--progress"});
  ASSERT_EQ(d.code, 0) << d.Dump();
  EXPECT_NE(d.out.find("delta/site/sync.1 pass 1: 1 files, 21B transferred"), std::string::npos)
      << d.Dump();
  // The daemon's receiver told the pushing runner the pass's totals.
  EXPECT_NE(d.err.find("delta/site/sync.1: done  21 B / 21 B  100%  1/1 files"),
            std::string::npos)
      << d.Dump();
  EXPECT_EQ(Oracle(old_ + "/site", module_ + "/srv/site"), "");
}

TEST_F(PlanDaemonTest, SecretsComeFromThePasswordFileOrTheEnvironment) {
  WriteFile(old_ + "/site/index.html", "<h1>hello</h1>");
  // A wrong secret: the daemon refuses, nothing is written.
  const std::string wrong = tmp_ / "wrong";
  WriteFile(wrong, "battery staple\n", 0600);
  WritePlan("{ url = \"" + Url() + "\", password_file = \"" + wrong + "\" }");
  Proc bad = Plan({"run", plan_, "--phase", "stage-one"});
  EXPECT_EQ(bad.code, 4) << bad.Dump();
  EXPECT_NE(bad.err.find("stage-one/site/sync.1: "), std::string::npos) << bad.Dump();
  EXPECT_NE(bad.err.find("auth"), std::string::npos) << bad.Dump();
  EXPECT_FALSE(Exists(module_ + "/srv/site/index.html"));

  // Neither a password_file nor FERRY_PASSWORD: the endpoint is named.
  WritePlan("\"" + Url() + "\"");
  Proc none = Plan({"run", plan_, "--phase", "stage-one", "--force"});
  EXPECT_EQ(none.code, 4) << none.Dump();
  EXPECT_NE(none.err.find("endpoint new (" + Url() + ") needs the daemon module's secret: give "
                          "the endpoint a password_file (mode 0600) or set FERRY_PASSWORD"),
            std::string::npos)
      << none.Dump();

  // FERRY_PASSWORD is the fallback.
  ::setenv("FERRY_PASSWORD", kSecret, 1);
  Proc env = Plan({"run", plan_, "--phase", "stage-one", "--force"});
  EXPECT_EQ(env.code, 0) << env.Dump();
  EXPECT_EQ(Oracle(old_ + "/site", module_ + "/srv/site"), "");
}

TEST_F(PlanDaemonTest, CheckRejectsMisplacedPasswordFilesAndAcceptsACutover) {
  WriteFile(plan_, "[endpoints]\nold = \"" + old_ + "\"\nnew = { url = \"" + Url() +
                       "\", password_file = \"" + secret_file_ + "\" }\nhost = { url = \"" +
                       (tmp_ / "x") + "\", password_file = \"" + secret_file_ + R"(" }
[[phases]]
kind = "cutover"
[[accounts]]
name = "site"
source = "old"
destination = "new"
  [[accounts.paths]]
  path = "site"
)");
  Proc check = Plan({"check", plan_});
  EXPECT_EQ(check.code, 1) << check.Dump();
  EXPECT_NE(check.err.find(plan_ + ":4:8: endpoint 'host': 'password_file' is only for a ferry "
                                   "daemon endpoint"),
            std::string::npos)
      << check.Dump();
  // Without the bad endpoint: valid, and the cutover's verification can
  // reach the daemon, so there is nothing to warn of.
  std::string text = ReadFile(plan_);
  text.erase(text.find("host = {"), text.find("[[phases]]") - text.find("host = {"));
  WriteFile(plan_, text);
  check = Plan({"check", plan_});
  EXPECT_EQ(check.code, 0) << check.Dump();
  EXPECT_EQ(check.err.find("warning"), std::string::npos) << check.Dump();
}

class PlanDaemonCutoverTest : public PlanDaemonTest {
 protected:
  void WriteCutoverPlan() {
    WriteFile(old_ + "/site/a.txt", "alpha");
    WriteFile(old_ + "/site/data/b.bin", Pattern(64 * 1024, 3));
    WriteFile(plan_, "[endpoints]\nold = \"" + old_ + "\"\nnew = { url = \"" + Url() +
                         "\", password_file = \"" + secret_file_ + R"(" }
[[phases]]
kind = "stage-one"
[[phases]]
kind = "cutover"
[[accounts]]
name = "site"
source = "old"
destination = "new"
  [[accounts.paths]]
  path = "site"
  [[accounts.hooks]]
  phase = "cutover"
  when = "switch"
  on = "source"
  command = "touch )" + switched_ + R"("
)");
    Proc s1 = Plan({"run", plan_, "--phase", "stage-one"});
    ASSERT_EQ(s1.code, 0) << s1.Dump();
  }
  std::string switched_ = tmp_ / "switched";
};

TEST_F(PlanDaemonCutoverTest, CleanCutoverIsVerifiedThroughTheDaemonAndSwitches) {
  WriteCutoverPlan();
  Proc cut = Plan({"run", plan_, "--phase", "cutover"});
  EXPECT_EQ(cut.code, 0) << cut.Dump();
  EXPECT_NE(cut.out.find("cutover/site/verify: 4 entries identical in content and metadata"),
            std::string::npos)
      << cut.Dump();
  EXPECT_TRUE(Exists(switched_)) << cut.Dump();
  EXPECT_EQ(Oracle(old_ + "/site", module_ + "/srv/site"), "");
}

TEST_F(PlanDaemonCutoverTest, CorruptedFileBehindTheDaemonStopsTheSwitch) {
  WriteCutoverPlan();
  // One byte changes in the module; size and mtime stay, so the final
  // pass's quick check cannot see it: only the verification can.
  const std::string victim = module_ + "/srv/site/data/b.bin";
  struct stat before = LStat(victim);
  int fd = ::open(victim.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "X", 1, 4096), 1);
  ::close(fd);
  SetMtime(victim, before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
  Proc cut = Plan({"run", plan_, "--phase", "cutover"});
  EXPECT_EQ(cut.code, 4) << cut.Dump();
  EXPECT_NE(cut.err.find("verification found 1 difference(s)"), std::string::npos) << cut.Dump();
  EXPECT_NE(cut.err.find("site/data/b.bin"), std::string::npos) << cut.Dump();
  EXPECT_NE(cut.err.find("stopped before the switch hooks"), std::string::npos) << cut.Dump();
  EXPECT_FALSE(Exists(switched_)) << "the switch hook ran";
  const std::string report = ReadFile(plan_ + ".state/reports/cutover.txt");
  EXPECT_NE(report.find("verification differences:"), std::string::npos) << report;
  EXPECT_NE(report.find("data/b.bin"), std::string::npos) << report;
  EXPECT_NE(report.find("cutover/site/switch.1: pending (skipped: not run: cutover/site/verify "
                        "failed)"),
            std::string::npos)
      << report;
}

}  // namespace
}  // namespace ferry::e2e
