// Plans whose destination is an ssh endpoint, over the remote-shell stand-in
// (tests/remote_shell_standin.sh runs `ferry serve --stdio ...` on this
// machine), so the runner's passes are real two-process remote syncs:
//  * stage one, two delta passes with changes between them, a cutover whose
//    hooks flip maintenance-mode files (the destination's through the rsh),
//    verification, and a rollback after changes on the destination; rsync
//    (-aHAXc --dry-run --itemize-changes --delete) judges every tree;
//  * the default verifier (a remote `ferry verify` through the stand-in)
//    finds a corrupted destination file and the switch hook never runs; a
//    clean cutover switches;
//  * filters and owner maps on an ssh leg: the excluded path never lands,
//    owners land mapped and are verified mapped; rsync with the same
//    excludes and maps judges the tree;
//  * owner maps with an ssh SOURCE (a pull): the cutover's verification
//    maps the source's owners by the names the remote side sends; an
//    unmapped owner on the destination stops the switch;
//  * two ssh ends are an error of `plan check`;
//  * `ferry plan run` killed with SIGKILL in the middle of an ssh pass
//    resumes without re-sending the files that had landed remotely.
//
// Some tests run the runner in-process (to read its log and state), with the
// default verifier as `ferry plan run` has it.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/plan/compile.h"
#include "engine/plan/parse.h"
#include "engine/plan/runner.h"
#include "engine/plan/state.h"
#include "engine/plan/verify.h"
#include "tests/e2e/e2e_util.h"

#ifndef FERRY_STANDIN
#error "FERRY_STANDIN must name tests/remote_shell_standin.sh"
#endif

namespace ferry::e2e {
namespace {

using ferry::testing::Shell;

class PlanRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Shell("command -v rsync >/dev/null 2>&1") != 0) GTEST_SKIP() << "rsync is not installed";
    old_ = tmp_ / "old";
    new_ = tmp_ / "new";
    MakeDirs(old_ + "/site");
    MakeDirs(new_);
    plan_ = tmp_ / "plan.toml";
  }

  // The plan's head: the stand-in as rsh, the built ferry on the "remote".
  std::string Head(const std::string& rsh = FERRY_STANDIN) const {
    return "rsh = \"" + rsh + "\"\nremote_ferry = \"" + std::string(FERRY_BIN) +
           "\"\n[endpoints]\nold = \"" + old_ + "\"\nnew = \"testhost:" + new_ + "\"\n";
  }

  // Parses, compiles, locks and runs FILE in-process like `ferry plan run`.
  plan::RunSummary Run(const std::string& phase, plan::Verifier verifier = plan::CutoverVerifier,
                       bool force = false) {
    std::ifstream in(plan_);
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<plan::Diagnostic> diags;
    plan::Plan p = plan::ParsePlan(ss.str(), plan_, &diags);
    plan::StepGraph g = plan::CompilePlan(p, &diags);
    for (const auto& d : diags) ADD_FAILURE() << d.ToString();
    std::string dir = plan::StateDirFor(plan_, g);
    auto lock = plan::LockStateDir(dir);
    EXPECT_TRUE(lock.ok()) << lock.status().message();
    auto st = plan::StateStore::Open(dir);
    EXPECT_TRUE(st.ok()) << st.status().message();
    if (!lock.ok() || !st.ok()) return {plan::RunResult::kFailed, "no state"};
    plan::RunOptions o;
    o.phase = phase;
    o.force = force;
    o.verifier = std::move(verifier);
    log_.clear();
    o.log = [this](std::string_view l) { log_ += std::string(l) + "\n"; };
    auto r = plan::RunPlan(g, dir, **st, o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return {plan::RunResult::kFailed, r.status().message()};
    passes_.clear();
    for (plan::PassRow& row : (*st)->AllPasses()) passes_.push_back(row);
    return *r;
  }

  // The passes of one step, oldest first, from the state database.
  std::vector<plan::PassRow> PassesOf(const std::string& step) const {
    std::vector<plan::PassRow> out;
    for (const plan::PassRow& p : passes_)
      if (p.step == step) out.push_back(p);
    return out;
  }

  std::string Oracle(const std::string& src, const std::string& dst,
                     const std::string& extra = "") {
    std::string out;
    Shell("rsync -aHAXc --dry-run --itemize-changes --delete --modify-window=-1 " + extra +
              " '" + src +
              "/' '" + dst + "/' 2>&1",
          &out);
    return out;
  }

  Proc Ferry(std::vector<std::string> args) {
    std::vector<std::string> argv = {FERRY_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, tmp_.path());
  }

  TempDir tmp_;
  std::string old_, new_, plan_, log_;
  std::vector<plan::PassRow> passes_;
};

void SetMtime(const std::string& p, int64_t sec) {
  struct timespec ts[2] = {{0, UTIME_OMIT}, {sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
}

constexpr const char* kPhases = R"([[phases]]
kind = "stage-one"
[[phases]]
kind = "delta"
until_bytes = 1
max_passes = 4
[[phases]]
kind = "cutover"
[[phases]]
kind = "rollback"
)";

TEST_F(PlanRemoteTest, StageDeltaCutoverVerifyRollbackOverSsh) {
  WriteFile(old_ + "/site/index.html", "<h1>hello</h1>");
  WriteFile(old_ + "/site/css/site.css", "body{}");
  WriteFile(old_ + "/site/big.bin", Pattern(300 * 1024, 7));
  ASSERT_EQ(::symlink("index.html", (old_ + "/site/home.html").c_str()), 0);
  WriteFile(plan_, Head() + kPhases + R"(
[[accounts]]
name = "site"
source = "old"
destination = "new"
  [[accounts.paths]]
  path = "site"
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
  Proc check = Ferry({"plan", "check", plan_});
  ASSERT_EQ(check.code, 0) << check.Dump();

  // Stage one lands everything over the remote shell; the destination's
  // hook ran through the rsh.
  plan::RunSummary s1 = Run("stage-one");
  ASSERT_EQ(s1.result, plan::RunResult::kDone) << s1.message << "\n" << log_;
  EXPECT_EQ(Oracle(old_ + "/site", new_ + "/site"), "");
  EXPECT_TRUE(Exists(new_ + "/maintenance"));
  std::vector<plan::PassRow> p = PassesOf("stage-one/site/sync.1");
  ASSERT_EQ(p.size(), 1u) << log_;
  EXPECT_EQ(p[0].status, "done");
  EXPECT_EQ(p[0].files, 3u);
  EXPECT_EQ(p[0].bytes, 14u + 6u + 300u * 1024u);
  EXPECT_EQ(p[0].dst, "testhost:" + new_ + "/site/");

  // Two delta runs with changes between them: each moves exactly them.
  WriteFile(old_ + "/site/index.html", "<h1>HELLO</h1>");  // same size
  SetMtime(old_ + "/site/index.html", 1700000000);
  WriteFile(old_ + "/site/new.txt", "added");
  plan::RunSummary d1 = Run("delta");
  ASSERT_EQ(d1.result, plan::RunResult::kDone) << d1.message << "\n" << log_;
  p = PassesOf("delta/site/sync.1");
  ASSERT_EQ(p.size(), 2u) << log_;
  EXPECT_EQ(p[0].files, 2u);
  EXPECT_EQ(p[0].bytes, 14u + 5u);
  EXPECT_EQ(p[1].files, 0u);
  EXPECT_EQ(p[1].scanned, 4u);
  WriteFile(old_ + "/site/css/site.css", "body{color:red}");
  plan::RunSummary d2 = Run("delta", plan::CutoverVerifier, /*force=*/true);
  ASSERT_EQ(d2.result, plan::RunResult::kDone) << d2.message << "\n" << log_;
  p = PassesOf("delta/site/sync.1");
  ASSERT_EQ(p.size(), 4u) << log_;
  EXPECT_EQ(p[2].files, 1u);
  EXPECT_EQ(p[2].bytes, 15u);
  EXPECT_EQ(Oracle(old_ + "/site", new_ + "/site"), "");

  // A preview changed the destination: the cutover's final pass (with
  // deletions) overwrites it, verification passes, the switch hook runs.
  WriteFile(new_ + "/site/index.html", "edited during preview");
  WriteFile(new_ + "/site/preview.txt", "made on the new server");
  // A dry run changes nothing and lists what the preview changed (a dry-run
  // push with itemize through the stand-in), not what the source changed.
  SetMtime(old_ + "/site/css/site.css", 1700000100);  // the source's own change
  Proc dry = Ferry({"plan", "run", plan_, "--phase", "cutover", "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.Dump();
  const std::string listed =
      "cutover/site/sync.1 pass 1: changed on destination since the last pass";
  EXPECT_NE(dry.out.find(listed + " (would be overwritten): M index.html"), std::string::npos)
      << dry.Dump();
  EXPECT_NE(dry.out.find(listed + " (would be overwritten): + preview.txt"), std::string::npos)
      << dry.Dump();
  EXPECT_EQ(dry.out.find("site.css"), std::string::npos) << dry.Dump();
  EXPECT_TRUE(Exists(new_ + "/site/preview.txt")) << "the dry run changed the destination";
  EXPECT_FALSE(Exists(old_ + "/maintenance")) << "the dry run ran a hook";
  plan::RunSummary cut = Run("cutover");
  ASSERT_EQ(cut.result, plan::RunResult::kDone) << cut.message << "\n" << log_;
  EXPECT_NE(log_.find("cutover/site/verify: "), std::string::npos) << log_;
  EXPECT_NE(log_.find(listed + " (overwritten now): M index.html"), std::string::npos) << log_;
  EXPECT_NE(log_.find(listed + " (overwritten now): + preview.txt"), std::string::npos) << log_;
  const std::string report = ReadFile(plan_ + ".state/reports/cutover.txt");
  EXPECT_NE(report.find("changed on the destination since the last pass (overwritten; the "
                        "source is authoritative):\n  M site/index.html\n  + site/preview.txt\n"),
            std::string::npos)
      << report;
  EXPECT_TRUE(Exists(old_ + "/maintenance"));
  EXPECT_FALSE(Exists(new_ + "/maintenance"));
  EXPECT_FALSE(Exists(new_ + "/site/preview.txt"));
  EXPECT_EQ(Oracle(old_ + "/site", new_ + "/site"), "");
  p = PassesOf("cutover/site/sync.1");
  ASSERT_EQ(p.size(), 1u) << log_;
  EXPECT_EQ(p[0].files, 2u);  // index.html again, site.css; preview.txt deleted remotely
  EXPECT_EQ(p[0].dst_changed, 2u);
  EXPECT_GT(p[0].seconds, 0);

  // Users change the new server; the rollback pulls it back over ssh and
  // reactivates the old server.
  WriteFile(new_ + "/site/orders/1.json", "{}");
  WriteFile(new_ + "/site/index.html", "<h1>changed on new</h1>");
  ASSERT_EQ(::unlink((new_ + "/site/new.txt").c_str()), 0);
  plan::RunSummary rb = Run("rollback");
  ASSERT_EQ(rb.result, plan::RunResult::kDone) << rb.message << "\n" << log_;
  EXPECT_FALSE(Exists(old_ + "/maintenance"));
  EXPECT_EQ(ReadFile(old_ + "/site/orders/1.json"), "{}");
  EXPECT_FALSE(Exists(old_ + "/site/new.txt"));
  EXPECT_EQ(Oracle(new_ + "/site", old_ + "/site"), "");
  p = PassesOf("rollback/site/sync.1");
  ASSERT_EQ(p.size(), 1u) << log_;
  EXPECT_EQ(p[0].files, 2u);
  EXPECT_EQ(p[0].deleted, 1u);
}

TEST_F(PlanRemoteTest, SshDestinationIsVerifiedBeforeTheSwitch) {
  WriteFile(old_ + "/site/a.txt", "alpha");
  WriteFile(old_ + "/site/data/b.bin", Pattern(64 * 1024, 3));
  WriteFile(plan_, Head() + R"([[phases]]
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
  // `ferry plan run` with its default verifier: the remote `ferry verify`.
  Proc s1 = Ferry({"plan", "run", plan_, "--phase", "stage-one"});
  ASSERT_EQ(s1.code, 0) << s1.Dump();

  // A corrupted destination file (same size and mtime, so the final pass's
  // quick check misses it) is found by the remote verify: no switch.
  std::string victim = new_ + "/site/data/b.bin";
  struct stat before = LStat(victim);
  int fd = ::open(victim.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "X", 1, 4096), 1);
  ::close(fd);
  struct timespec ts[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, victim.c_str(), ts, 0), 0);
  Proc cut = Ferry({"plan", "run", plan_, "--phase", "cutover"});
  EXPECT_EQ(cut.code, 4) << cut.Dump();
  EXPECT_NE(cut.err.find("verification found 1 difference(s)"), std::string::npos) << cut.Dump();
  EXPECT_NE(cut.err.find("site/data/b.bin"), std::string::npos) << cut.Dump();
  EXPECT_FALSE(Exists(tmp_.path() + "/switched")) << "the switch hook ran";

  // Repaired, the cutover verifies clean and switches (in-process, through
  // the default CutoverVerifier).
  WriteFile(victim, ReadFile(old_ + "/site/data/b.bin"));
  SetMtime(victim, before.st_mtim.tv_sec);
  plan::RunSummary r = Run("cutover", plan::CutoverVerifier, /*force=*/true);
  EXPECT_EQ(r.result, plan::RunResult::kDone) << r.message << "\n" << log_;
  EXPECT_NE(log_.find("cutover/site/verify: 4 entries identical in content and metadata"),
            std::string::npos)
      << log_;
  EXPECT_TRUE(Exists(tmp_.path() + "/switched"));
  EXPECT_EQ(Oracle(old_ + "/site", new_ + "/site"), "");
}

TEST_F(PlanRemoteTest, FiltersAndOwnerMapsOnAnSshLeg) {
  if (!AmRoot()) GTEST_SKIP() << "needs root to chown";
  WriteFile(old_ + "/www/index.html", "hello");
  WriteFile(old_ + "/www/cache/big.tmp", Pattern(8192, 5));
  WriteFile(old_ + "/www/app/main.php", "<?php");
  ASSERT_EQ(::chown((old_ + "/www/index.html").c_str(), 1, 1), 0);  // daemon
  ASSERT_EQ(::chown((old_ + "/www/app").c_str(), 2, 2), 0);         // bin
  WriteFile(plan_, Head() + R"([[phases]]
kind = "stage-one"
[[phases]]
kind = "cutover"
[[accounts]]
name = "shop"
source = "old"
destination = "new"
usermap = "daemon:sys"
groupmap = "bin:adm"
  [[accounts.paths]]
  path = "www"
  filter = ["- cache/"]
  [[accounts.hooks]]
  phase = "cutover"
  when = "switch"
  on = "destination"
  command = "touch )" + tmp_.path() + R"(/switched"
)");
  // Nothing left to warn about.
  Proc check = Ferry({"plan", "check", plan_});
  EXPECT_EQ(check.code, 0) << check.Dump();
  EXPECT_EQ(check.err.find("warning"), std::string::npos) << check.Dump();

  Proc s1 = Ferry({"plan", "run", plan_, "--phase", "stage-one"});
  ASSERT_EQ(s1.code, 0) << s1.Dump();
  EXPECT_FALSE(Exists(new_ + "/www/cache")) << "the filter was dropped";
  EXPECT_EQ(LStat(new_ + "/www/index.html").st_uid, 3u);  // sys
  EXPECT_EQ(LStat(new_ + "/www/app").st_gid, 4u);         // adm
  // The remote verify maps SRC's owners as the sync did: clean, switched.
  Proc cut = Ferry({"plan", "run", plan_, "--phase", "cutover"});
  EXPECT_EQ(cut.code, 0) << cut.Dump();
  EXPECT_TRUE(Exists(tmp_.path() + "/switched")) << cut.Dump();
  EXPECT_EQ(Oracle(old_ + "/www", new_ + "/www",
                   "--exclude=cache/ --usermap=daemon:sys --groupmap=bin:adm"),
            "");
}

// The pull direction: an ssh SOURCE with owner maps. The cutover's
// verification maps SRC's owners by the names the remote side sends (as the
// pass's receiver did), so a clean cutover switches; a destination owner
// changed back to the unmapped id after the final pass stops it.
TEST_F(PlanRemoteTest, OwnerMapsFromAnSshSourceAreVerified) {
  if (!AmRoot()) GTEST_SKIP() << "needs root to chown";
  WriteFile(old_ + "/www/index.html", "hello");
  WriteFile(old_ + "/www/app/main.php", "<?php");
  ASSERT_EQ(::chown((old_ + "/www/index.html").c_str(), 1, 1), 0);  // daemon
  ASSERT_EQ(::chown((old_ + "/www/app").c_str(), 2, 2), 0);         // bin
  const std::string flag = tmp_ / "unmap", switched = tmp_ / "switched";
  WriteFile(flag, "");
  WriteFile(plan_, "rsh = \"" + std::string(FERRY_STANDIN) + "\"\nremote_ferry = \"" +
                       FERRY_BIN + "\"\n[endpoints]\nold = \"testhost:" + old_ +
                       "\"\nnew = \"" + new_ + R"("
[[phases]]
kind = "stage-one"
[[phases]]
kind = "cutover"
[[accounts]]
name = "shop"
source = "old"
destination = "new"
usermap = "daemon:sys"
groupmap = "bin:adm"
  [[accounts.paths]]
  path = "www"
  [[accounts.hooks]]
  phase = "cutover"
  when = "after-sync"
  on = "destination"
  command = "if [ -f )" + flag + R"( ]; then chown 1 )" + new_ + R"(/www/index.html; fi"
  [[accounts.hooks]]
  phase = "cutover"
  when = "switch"
  on = "destination"
  command = "touch )" + switched + R"("
)");
  Proc check = Ferry({"plan", "check", plan_});
  EXPECT_EQ(check.code, 0) << check.Dump();
  EXPECT_EQ(check.err.find("warning"), std::string::npos) << check.Dump();
  Proc s1 = Ferry({"plan", "run", plan_, "--phase", "stage-one"});
  ASSERT_EQ(s1.code, 0) << s1.Dump();
  EXPECT_EQ(LStat(new_ + "/www/index.html").st_uid, 3u);  // sys
  EXPECT_EQ(LStat(new_ + "/www/app").st_gid, 4u);         // adm

  // After the final pass, index.html gets the unmapped owner back.
  Proc bad = Ferry({"plan", "run", plan_, "--phase", "cutover"});
  EXPECT_EQ(bad.code, 4) << bad.Dump();
  EXPECT_NE(bad.err.find("verification found 1 difference(s)"), std::string::npos) << bad.Dump();
  EXPECT_NE(bad.err.find("www/index.html"), std::string::npos) << bad.Dump();
  EXPECT_FALSE(Exists(switched)) << "the switch hook ran";

  ASSERT_EQ(::unlink(flag.c_str()), 0);
  Proc cut = Ferry({"plan", "run", plan_, "--phase", "cutover", "--force"});
  EXPECT_EQ(cut.code, 0) << cut.Dump();
  EXPECT_TRUE(Exists(switched)) << cut.Dump();
  EXPECT_EQ(LStat(new_ + "/www/index.html").st_uid, 3u);
}

TEST_F(PlanRemoteTest, TwoSshEndsAreAPlanError) {
  WriteFile(old_ + "/www/index.html", "hello");
  // Two ssh ends are an error of the plan itself.
  WriteFile(plan_, Head() + R"(other = "host2:/srv"
[[phases]]
kind = "stage-one"
[[accounts]]
name = "shop"
source = "other"
destination = "new"
  [[accounts.paths]]
  path = "www"
)");
  Proc check = Ferry({"plan", "check", plan_});
  EXPECT_EQ(check.code, 1) << check.Dump();
  EXPECT_NE(check.err.find(plan_ + ":13:3: account shop, path set www, phase stage-one: "
                                   "host2:/srv/www/ -> testhost:" + new_ +
                                   "/www/: both ends are ssh endpoints"),
            std::string::npos)
      << check.Dump();
}

size_t CountLanded(const std::string& dir) {
  std::string out;
  Shell("find '" + dir + "' -type f ! -name '.~ferry.*' 2>/dev/null | wc -l", &out);
  return static_cast<size_t>(std::stoul(out));
}

// The bytes of the regular files in dir (temporaries left out).
uint64_t BytesLanded(const std::string& dir) {
  std::string out;
  Shell("find '" + dir + "' -type f ! -name '.~ferry.*' -printf '%s\\n' 2>/dev/null | "
        "awk '{s+=$1} END {print s+0}'",
        &out);
  return std::stoull(out);
}

TEST_F(PlanRemoteTest, KilledSshPassResumesWithoutResendingLandedFiles) {
  constexpr size_t kFiles = 400;
  uint64_t total = 0;
  for (size_t i = 0; i < kFiles; ++i) {
    WriteFile(old_ + "/site/d" + std::to_string(i % 8) + "/f" + std::to_string(i),
              Pattern(8000 + i, static_cast<unsigned>(i)));
    total += 8000 + i;
  }
  // The stand-in behind a throttle: the remote reads its input at a few
  // MB/s, so the pass is still running when the runner is killed.
  std::string slow = tmp_ / "slow-rsh";
  WriteFile(slow, std::string("#!/bin/sh\n") +
                      "/usr/bin/perl -e '$|=1; while (sysread(STDIN, $b, 8192)) "
                      "{ syswrite(STDOUT, $b); select(undef, undef, undef, 0.004); }' | " +
                      FERRY_STANDIN + " \"$@\"\n",
            0755);
  const std::string body = R"([[phases]]
kind = "stage-one"
[[accounts]]
name = "site"
source = "old"
destination = "new"
  [[accounts.paths]]
  path = "site"
)";
  WriteFile(plan_, Head(slow) + body);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(FERRY_BIN, "ferry", "plan", "run", plan_.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 3000 && CountLanded(new_ + "/site") < 60; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  // The remote end sees its input end and stops; wait until nothing lands.
  size_t landed = CountLanded(new_ + "/site");
  for (int stable = 0, i = 0; stable < 20 && i < 1000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    size_t now = CountLanded(new_ + "/site");
    stable = now == landed ? stable + 1 : 0;
    landed = now;
  }
  ASSERT_GE(landed, 60u);
  ASSERT_LT(landed, kFiles) << "the pass finished before the kill";
  const uint64_t landed_bytes = BytesLanded(new_ + "/site");

  // The killed pass stored its totals when the remote receiver had compared
  // the list (PlannedTotals), long before its end.
  {
    auto st = plan::StateStore::Open(plan_ + ".state");
    ASSERT_TRUE(st.ok()) << st.status().message();
    std::vector<plan::PassRow> cut = (*st)->Passes("stage-one/site/sync.1");
    ASSERT_EQ(cut.size(), 1u);
    EXPECT_EQ(cut[0].planned_files, kFiles);
    EXPECT_EQ(cut[0].planned_bytes, total);
  }

  // The resumed run goes at full speed (same plan, unthrottled shell), with
  // the cut-off attempt's totals from the start of its progress.
  WriteFile(plan_, Head() + body);
  Proc resumed = Ferry({"plan", "run", plan_, "--progress"});
  ASSERT_EQ(resumed.code, 0) << resumed.Dump();
  EXPECT_NE(resumed.out.find("resuming: 1 pass(es) were cut off"), std::string::npos)
      << resumed.Dump();
  // 400 files of 8,000..8,399 bytes: 3,279,800 bytes.
  ASSERT_EQ(total, 3279800u);
  EXPECT_NE(resumed.out.find("stage-one/site/sync.1 pass 1 (resumed): the cut-off attempt had "
                             "planned 400 files, 3.1MiB"),
            std::string::npos)
      << resumed.Dump();
  EXPECT_NE(resumed.err.find("stage-one/site/sync.1: done  3.1 MiB / 3.1 MiB  100%  "
                             "400/400 files"),
            std::string::npos)
      << resumed.Dump();
  auto st = plan::StateStore::Open(plan_ + ".state");
  ASSERT_TRUE(st.ok()) << st.status().message();
  std::vector<plan::PassRow> passes = (*st)->Passes("stage-one/site/sync.1");
  ASSERT_EQ(passes.size(), 2u) << resumed.Dump();
  EXPECT_EQ(passes[0].status, "interrupted");
  EXPECT_TRUE(passes[1].resumed);
  // Exactly the files that had not landed were sent, by count and by bytes,
  // and the resumed attempt planned only those.
  EXPECT_EQ(passes[1].files, kFiles - landed) << resumed.Dump();
  EXPECT_EQ(passes[1].bytes, total - landed_bytes) << resumed.Dump();
  EXPECT_EQ(passes[1].planned_files, kFiles - landed) << resumed.Dump();
  EXPECT_EQ(passes[1].planned_bytes, total - landed_bytes) << resumed.Dump();
  EXPECT_EQ(Oracle(old_ + "/site", new_ + "/site"), "");
}

}  // namespace
}  // namespace ferry::e2e
