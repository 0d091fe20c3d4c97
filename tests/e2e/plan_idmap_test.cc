// `ferry plan run` with an account's usermap/groupmap: every pass lands the
// mapped owners, the cutover's verification compares against them (and
// passes), an unknown TO name stops the run before anything is copied, and a
// rollback of a mapped account is refused rather than giving SRC DST's ids.
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

class PlanIdMapTest : public ::testing::Test {
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

  void WritePlan(const std::string& usermap, const std::string& groupmap) {
    WriteFile(plan_, R"(name = "idmap"
[endpoints]
old = ")" + old_ + R"("
new = ")" + new_ + R"("

[[phases]]
kind = "stage-one"
[[phases]]
kind = "cutover"
[[phases]]
kind = "rollback"

[[accounts]]
name = "site"
source = "old"
destination = "new"
usermap = ")" + usermap + R"("
groupmap = ")" + groupmap + R"("
  [[accounts.paths]]
  path = "site"
  [[accounts.hooks]]
  phase = "cutover"
  when = "switch"
  on = "destination"
  command = "touch )" + tmp_.path() + R"(/switched"
)");
  }

  void ExpectOwner(const std::string& path, uid_t u, gid_t g) {
    struct stat st;
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_uid, u) << path;
    EXPECT_EQ(st.st_gid, g) << path;
  }

  TempDir tmp_;
  std::string old_, new_, plan_;
};

TEST_F(PlanIdMapTest, MappedOwnersThroughStageOneAndVerifiedCutover) {
  if (!AmRoot()) GTEST_SKIP() << "needs root to chown";
  WriteFile(old_ + "/site/index.html", "<h1>hello</h1>");
  WriteFile(old_ + "/site/data/app.db", "rows");
  ASSERT_EQ(::chown((old_ + "/site/index.html").c_str(), 1, 1), 0);  // daemon
  ASSERT_EQ(::chown((old_ + "/site/data").c_str(), 2, 2), 0);        // bin
  ASSERT_EQ(::chown((old_ + "/site/data/app.db").c_str(), 2, 2), 0);
  WritePlan("daemon:sys,2:nobody", "*:adm");
  Proc check = Plan({"check", plan_});
  ASSERT_EQ(check.code, 0) << check.Dump();

  Proc s1 = Plan({"run", plan_, "--phase", "stage-one"});
  ASSERT_EQ(s1.code, 0) << s1.Dump();
  ExpectOwner(new_ + "/site/index.html", 3, 4);
  ExpectOwner(new_ + "/site/data", 65534, 4);
  ExpectOwner(new_ + "/site/data/app.db", 65534, 4);
  ExpectOwner(new_ + "/site", 0, 4);  // root: no usermap pair, groups all adm

  // The cutover's final pass finds nothing to move and its verification
  // compares owners after mapping, so the switch hook runs.
  Proc cut = Plan({"run", plan_, "--phase", "cutover"});
  ASSERT_EQ(cut.code, 0) << cut.Dump();
  EXPECT_TRUE(Exists(tmp_.path() + "/switched")) << cut.Dump();
  nlohmann::json report = nlohmann::json::parse(
      ReadFile(plan_ + ".state/reports/cutover.json"), nullptr, false);
  ASSERT_FALSE(report.is_discarded());
  bool seen = false;
  for (const auto& s : report["steps"]) {
    if (s["id"] != "cutover/site/sync.1") continue;
    seen = true;
    ASSERT_FALSE(s["passes"].empty()) << report.dump(2);
    EXPECT_EQ(s["passes"][0]["files"], 0) << report.dump(2);
  }
  EXPECT_TRUE(seen) << report.dump(2);
  ExpectOwner(new_ + "/site/index.html", 3, 4);

  // Rolling back would give the source the destination's owners: refused.
  Proc back = Plan({"run", plan_, "--phase", "rollback"});
  EXPECT_NE(back.code, 0) << back.Dump();
  EXPECT_NE((back.out + back.err).find("rollback cannot map owners"), std::string::npos)
      << back.Dump();
  ExpectOwner(old_ + "/site/index.html", 1, 1);
}

TEST_F(PlanIdMapTest, UnknownToNameStopsTheRunBeforeCopying) {
  WriteFile(old_ + "/site/index.html", "<h1>hello</h1>");
  WritePlan("daemon:sys,www:no-such-user-ferry", "*:adm");
  Proc check = Plan({"check", plan_});
  ASSERT_EQ(check.code, 0) << "syntax is fine; names resolve at run time\n" << check.Dump();
  for (bool dry : {true, false}) {
    std::vector<std::string> args = {"run", plan_, "--phase", "stage-one"};
    if (dry) args.push_back("--dry-run");
    Proc run = Plan(args);
    EXPECT_NE(run.code, 0) << run.Dump();
    std::string all = run.out + run.err;
    EXPECT_NE(all.find("account site: usermap: user \"no-such-user-ferry\""), std::string::npos)
        << run.Dump();
    EXPECT_FALSE(Exists(new_ + "/site")) << "nothing may be copied";
  }
}

}  // namespace
}  // namespace ferry::e2e
