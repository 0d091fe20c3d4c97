// `ferry plan run` end to end on local directories, judged by rsync:
// stage one, delta passes with changes between them, a cutover whose hooks
// flip maintenance-mode files (one through a remote-shell stand-in), full
// verification, a rollback of changes made on the destination; a runner
// killed with SIGKILL mid-pass resumes without re-sending finished files; a
// second runner is refused; a corrupted destination file stops the cutover
// before its switch hook.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/plan/compile.h"
#include "engine/plan/parse.h"
#include "engine/plan/runner.h"
#include "engine/plan/state.h"
#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

using ferry::testing::Shell;

class PlanRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_ = tmp_ / "old";
    new_ = tmp_ / "new";
    MakeDirs(old_ + "/site");
    MakeDirs(new_);
    plan_ = tmp_ / "plan.toml";
  }

  Proc Plan(std::vector<std::string> args) {
    std::vector<std::string> argv = {Ferry(), "plan"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, tmp_.path());
  }

  // rsync's verdict on DST against SRC: empty when identical by content
  // and metadata (mtime compared exactly).
  std::string Oracle(const std::string& src, const std::string& dst,
                     const std::string& exclude = "") {
    std::vector<std::string> argv = {"/usr/bin/rsync", "-aHAXc", "--dry-run",
                                     "--itemize-changes", "--delete", "--modify-window=-1"};
    if (!exclude.empty()) argv.push_back("--exclude=" + exclude);
    argv.push_back(src + "/");
    argv.push_back(dst + "/");
    Proc p = RunProcess(argv, tmp_.path());
    EXPECT_EQ(p.code, 0) << p.Dump();
    return p.out;
  }

  nlohmann::json Report(const std::string& phase) {
    std::string text = ReadFile(plan_ + ".state/reports/" + phase + ".json");
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
    return j;
  }

  // The passes of one step in a phase report.
  nlohmann::json Passes(const std::string& phase, const std::string& step) {
    nlohmann::json report = Report(phase);
    for (const auto& s : report["steps"])
      if (s["id"] == step) return s.value("passes", nlohmann::json::array());
    ADD_FAILURE() << "no step " << step << " in the " << phase << " report";
    return nlohmann::json::array();
  }

  TempDir tmp_;
  std::string old_, new_, plan_;
};

void SetMtime(const std::string& p, int64_t sec) {
  struct timespec ts[2] = {{0, UTIME_OMIT}, {sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
}

TEST_F(PlanRunTest, StageDeltaCutoverVerifyRollback) {
  WriteFile(old_ + "/site/index.html", "<h1>hello</h1>");
  WriteFile(old_ + "/site/css/site.css", "body{}");
  WriteFile(old_ + "/site/big.bin", std::string(300 * 1024, 'b'));
  WriteFile(old_ + "/site/cache/tmp1", "cache, never copied");
  ASSERT_EQ(::symlink("index.html", (old_ + "/site/home.html").c_str()), 0);
  // The remote-shell stand-in: logs its arguments, runs the command here.
  std::string fake_ssh = tmp_ / "fake-ssh";
  WriteFile(fake_ssh, "#!/bin/sh\necho \"$@\" >> " + tmp_.path() +
                          "/ssh.log\nwhile [ $# -gt 1 ]; do shift; done\nexec /bin/sh -c \"$1\"\n",
            0755);
  WriteFile(plan_, R"(name = "e2e"
rsh = ")" + fake_ssh + R"("
[endpoints]
old = ")" + old_ + R"("
new = ")" + new_ + R"("
ns1 = "root@ns1.example.net:/"

[[phases]]
kind = "stage-one"
[[phases]]
kind = "delta"
until_bytes = 1
max_passes = 4
[[phases]]
kind = "cutover"
  [[phases.hooks]]
  when = "after"
  on = "ns1"
  command = "touch )" + tmp_.path() + R"(/dns-switched"
[[phases]]
kind = "rollback"

[[accounts]]
name = "site"
source = "old"
destination = "new"
  [[accounts.paths]]
  path = "site"
  filter = ["- cache/"]
  [[accounts.hooks]]
  phase = "stage-one"
  when = "after"
  on = "destination"
  command = "touch )" + new_ + R"(/maintenance"
  [[accounts.hooks]]
  phase = "cutover"
  when = "freeze"
  on = "source"
  command = "touch )" + old_ + R"(/maintenance"
  [[accounts.hooks]]
  phase = "cutover"
  when = "switch"
  on = "destination"
  command = "rm )" + new_ + R"(/maintenance"
  [[accounts.hooks]]
  phase = "rollback"
  when = "reactivate"
  on = "source"
  command = "rm )" + old_ + R"(/maintenance"
)");
  Proc check = Plan({"check", plan_});
  ASSERT_EQ(check.code, 0) << check.Dump();

  // Stage one: everything but the cache; the new server is in maintenance.
  Proc s1 = Plan({"run", plan_, "--phase", "stage-one"});
  ASSERT_EQ(s1.code, 0) << s1.Dump();
  EXPECT_EQ(Oracle(old_ + "/site", new_ + "/site", "cache/"), "");
  EXPECT_FALSE(Exists(new_ + "/site/cache"));
  EXPECT_TRUE(Exists(new_ + "/maintenance"));

  // Delta: changes, a pass that moves them, a pass that moves nothing.
  WriteFile(old_ + "/site/index.html", "<h1>HELLO</h1>");  // same size
  SetMtime(old_ + "/site/index.html", 1700000000);
  WriteFile(old_ + "/site/new.txt", "added");
  Proc d1 = Plan({"run", plan_, "--phase", "delta"});
  ASSERT_EQ(d1.code, 0) << d1.Dump();
  nlohmann::json passes = Passes("delta", "delta/site/sync.1");
  ASSERT_EQ(passes.size(), 2u) << Report("delta").dump(2);
  EXPECT_EQ(passes[0]["files"], 2);
  EXPECT_EQ(passes[1]["files"], 0);
  // More changes, a second delta run.
  WriteFile(old_ + "/site/css/site.css", "body{color:red}");
  Proc d2 = Plan({"run", plan_, "--phase", "delta", "--force"});
  ASSERT_EQ(d2.code, 0) << d2.Dump();
  passes = Passes("delta", "delta/site/sync.1");
  ASSERT_EQ(passes.size(), 2u) << Report("delta").dump(2);
  EXPECT_EQ(passes[0]["files"], 1);
  EXPECT_EQ(passes[0]["bytes"], 15);
  EXPECT_EQ(Oracle(old_ + "/site", new_ + "/site", "cache/"), "");
  // Without --force a finished phase is a no-op.
  Proc d3 = Plan({"run", plan_, "--phase", "delta"});
  ASSERT_EQ(d3.code, 0) << d3.Dump();
  EXPECT_NE(d3.out.find("phase delta: already done"), std::string::npos) << d3.Dump();

  // A preview on the new server changes files there; the source stays
  // authoritative and the dry run of the cutover lists them.
  WriteFile(new_ + "/site/index.html", "edited during preview");
  WriteFile(new_ + "/site/preview.txt", "made on the new server");
  Proc dry = Plan({"run", plan_, "--phase", "cutover", "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.Dump();
  EXPECT_NE(dry.out.find("(would be overwritten): M index.html"), std::string::npos) << dry.Dump();
  EXPECT_NE(dry.out.find("(would be overwritten): + preview.txt"), std::string::npos) << dry.Dump();
  EXPECT_TRUE(Exists(new_ + "/site/preview.txt")) << "the dry run changed the destination";
  EXPECT_FALSE(Exists(old_ + "/maintenance")) << "the dry run ran a hook";

  Proc cut = Plan({"run", plan_, "--phase", "cutover"});
  ASSERT_EQ(cut.code, 0) << cut.Dump();
  EXPECT_TRUE(Exists(old_ + "/maintenance"));   // the old server is frozen
  EXPECT_FALSE(Exists(new_ + "/maintenance"));  // the new one is live
  EXPECT_TRUE(Exists(tmp_.path() + "/dns-switched"));
  EXPECT_EQ(ReadFile(tmp_.path() + "/ssh.log"),
            "root@ns1.example.net touch " + tmp_.path() + "/dns-switched\n");
  EXPECT_FALSE(Exists(new_ + "/site/preview.txt"));
  EXPECT_EQ(Oracle(old_ + "/site", new_ + "/site", "cache/"), "");
  std::string report = ReadFile(plan_ + ".state/reports/cutover.txt");
  EXPECT_NE(report.find("M site/index.html"), std::string::npos) << report;
  EXPECT_NE(report.find("+ site/preview.txt"), std::string::npos) << report;

  // After the cutover users change things on the new server; a rollback
  // brings them back and reactivates the old server.
  WriteFile(new_ + "/site/orders/1.json", "{}");
  WriteFile(new_ + "/site/index.html", "<h1>changed on new</h1>");
  ASSERT_EQ(::unlink((new_ + "/site/new.txt").c_str()), 0);
  Proc rb = Plan({"run", plan_, "--phase", "rollback"});
  ASSERT_EQ(rb.code, 0) << rb.Dump();
  EXPECT_FALSE(Exists(old_ + "/maintenance"));
  EXPECT_EQ(ReadFile(old_ + "/site/orders/1.json"), "{}");
  // The cache was excluded, so it stays on the old server (as rsync's
  // --delete leaves excluded files alone).
  EXPECT_EQ(Oracle(new_ + "/site", old_ + "/site", "cache/"), "");
  EXPECT_TRUE(Exists(old_ + "/site/cache/tmp1"));

  // Everything done: a plain run is a no-op; status says so.
  Proc again = Plan({"run", plan_});
  ASSERT_EQ(again.code, 0) << again.Dump();
  EXPECT_EQ(again.out.find(" pass "), std::string::npos) << again.Dump();
  Proc st = Plan({"status", plan_});
  ASSERT_EQ(st.code, 0) << st.Dump();
  EXPECT_TRUE(HasLine(st.out, "phase cutover (cutover): done, 5/5 steps done")) << st.Dump();
  Proc show = Plan({"show", plan_});
  ASSERT_EQ(show.code, 0) << show.Dump();
  EXPECT_NE(show.out.find("next pass of delta/site/sync.1: ~"), std::string::npos) << show.Dump();
  EXPECT_NE(show.out.find("cutover downtime of site in cutover: ~"), std::string::npos)
      << show.Dump();
}

// Forks a runner of FILE (in-process RunPlan, as `ferry plan run` does) whose
// pass stalls after `stall_after` files landed: the on_item hook writes
// "stalled" to `mark` and blocks. Returns its pid; the test kills it.
pid_t StartStalled(const std::string& plan_path, int stall_after, const std::string& mark) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  std::vector<plan::Diagnostic> diags;
  plan::Plan p = plan::ParsePlan(ReadFile(plan_path), plan_path, &diags);
  plan::StepGraph g = plan::CompilePlan(p, &diags);
  std::string dir = plan::StateDirFor(plan_path, g);
  auto lock = plan::LockStateDir(dir);
  auto st = plan::StateStore::Open(dir);
  if (!diags.empty() || !lock.ok() || !st.ok()) ::_exit(2);
  int landed = 0;
  plan::RunOptions o;
  o.on_item = [&](std::string_view, std::string_view item, std::string_view) {
    if (item.empty() || item[0] != '>' || ++landed < stall_after) return;
    WriteFile(mark, "stalled");
    for (;;) ::pause();
  };
  (void)plan::RunPlan(g, dir, **st, o);
  ::_exit(0);
}

bool WaitForText(const std::string& path, const std::string& text) {
  for (int i = 0; i < 1000; ++i) {
    if (ReadFile(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

size_t CountFiles(const std::string& dir) {
  std::string out;
  Shell("find '" + dir + "' -type f ! -name '.~ferry.*' | wc -l", &out);
  return static_cast<size_t>(std::stoul(out));
}

TEST_F(PlanRunTest, KilledPassResumesWithoutResendingAndSecondRunnerIsRefused) {
  constexpr int kFiles = 600;
  for (int i = 0; i < kFiles; ++i)
    WriteFile(old_ + "/site/d" + std::to_string(i % 10) + "/f" + std::to_string(i),
              std::string(1000 + i, 'x'));
  WriteFile(plan_, R"([endpoints]
old = ")" + old_ + R"("
new = ")" + new_ + R"("
[[phases]]
kind = "stage-one"
[[accounts]]
name = "site"
source = "old"
destination = "new"
  [[accounts.paths]]
  path = "site"
)");
  std::string mark = tmp_ / "runner.mark";
  pid_t pid = StartStalled(plan_, 150, mark);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitForText(mark, "stalled")) << "the runner did not reach 150 files";

  // The lock: a second runner on the same plan refuses, naming the first.
  Proc second = Plan({"run", plan_});
  EXPECT_EQ(second.code, 2) << second.Dump();
  EXPECT_NE(second.err.find("another ferry plan run (pid " + std::to_string(pid) + ") holds"),
            std::string::npos)
      << second.Dump();

  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  size_t landed = CountFiles(new_ + "/site");
  ASSERT_GE(landed, 150u);
  ASSERT_LT(landed, static_cast<size_t>(kFiles)) << "the pass finished before the kill";

  Proc st = Plan({"status", plan_});
  EXPECT_NE(st.out.find("interrupted"), std::string::npos) << st.Dump();

  // Resumed with --progress: the whole pass's totals (what the cut-off
  // attempt planned, stored when planning finished) from the start, and
  // what landed before counts as done.
  Proc resumed = Plan({"run", plan_, "--progress"});
  ASSERT_EQ(resumed.code, 0) << resumed.Dump();
  EXPECT_NE(resumed.out.find("resuming: 1 pass(es) were cut off"), std::string::npos)
      << resumed.Dump();
  EXPECT_NE(resumed.out.find("stage-one/site/sync.1 pass 1 (resumed): the cut-off attempt had "
                             "planned 600 files, 761.4KiB"),
            std::string::npos)
      << resumed.Dump();
  EXPECT_NE(resumed.err.find("stage-one/site/sync.1: done  761.4 KiB / 761.4 KiB  100%  "
                             "600/600 files"),
            std::string::npos)
      << resumed.Dump();
  nlohmann::json passes = Passes("stage-one", "stage-one/site/sync.1");
  ASSERT_EQ(passes.size(), 1u) << Report("stage-one").dump(2);
  EXPECT_EQ(passes[0]["resumed"], true);
  // Exactly the files that had not landed were sent.
  EXPECT_EQ(passes[0]["files"].get<size_t>(), kFiles - landed);
  EXPECT_EQ(passes[0]["unchanged_files"].get<size_t>(), landed);
  EXPECT_EQ(Oracle(old_ + "/site", new_ + "/site"), "");
}

TEST_F(PlanRunTest, CorruptedDestinationFileStopsCutoverBeforeSwitch) {
  WriteFile(old_ + "/site/a.txt", "alpha");
  WriteFile(old_ + "/site/data/b.bin", std::string(64 * 1024, 'b'));
  WriteFile(plan_, R"([endpoints]
old = ")" + old_ + R"("
new = ")" + new_ + R"("
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
  on = "destination"
  command = "touch )" + tmp_.path() + R"(/switched"
)");
  Proc s1 = Plan({"run", plan_, "--phase", "stage-one"});
  ASSERT_EQ(s1.code, 0) << s1.Dump();
  // One byte changes on the destination; size and mtime stay, so the final
  // pass's quick check cannot see it.
  std::string victim = new_ + "/site/data/b.bin";
  struct stat before = LStat(victim);
  int fd = ::open(victim.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "X", 1, 4096), 1);
  ::close(fd);
  struct timespec ts[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, victim.c_str(), ts, 0), 0);

  Proc cut = Plan({"run", plan_, "--phase", "cutover"});
  EXPECT_EQ(cut.code, 4) << cut.Dump();
  EXPECT_NE(cut.err.find("verification found 1 difference(s)"), std::string::npos) << cut.Dump();
  EXPECT_NE(cut.err.find("site/data/b.bin"), std::string::npos) << cut.Dump();
  EXPECT_NE(cut.err.find("stopped before the switch hooks"), std::string::npos) << cut.Dump();
  EXPECT_FALSE(Exists(tmp_.path() + "/switched")) << "the switch hook ran";
  std::string report = ReadFile(plan_ + ".state/reports/cutover.txt");
  EXPECT_NE(report.find("verification differences:"), std::string::npos) << report;
  EXPECT_NE(report.find("cutover/site/switch.1: pending (skipped: not run: cutover/site/verify "
                        "failed)"),
            std::string::npos)
      << report;
  Proc st = Plan({"status", plan_});
  EXPECT_NE(st.out.find("cutover/site/verify: failed"), std::string::npos) << st.Dump();
}

}  // namespace
}  // namespace ferry::e2e
