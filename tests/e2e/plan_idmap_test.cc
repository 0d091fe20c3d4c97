// `ferry plan run` with an account's usermap/groupmap: every pass lands the
// mapped owners, the cutover's verification compares against them (and
// passes), an unknown TO name stops the run before anything is copied, a
// rollback maps owners back with the inverse map, and a map without an
// inverse (a wildcard, two names onto one) refuses the rollback rather than
// giving SRC the wrong owners.
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

  // "*:adm" has no inverse: the rollback is refused before it copies.
  WriteFile(new_ + "/site/index.html", "<h1>changed on new</h1>");
  Proc back = Plan({"run", plan_, "--phase", "rollback"});
  EXPECT_NE(back.code, 0) << back.Dump();
  EXPECT_NE(back.err.find("phase rollback: account site: a rollback cannot map owners back to "
                          "the source: groupmap \"*:adm\": FROM \"*\" is a wildcard, which has "
                          "no inverse"),
            std::string::npos)
      << back.Dump();
  EXPECT_EQ(ReadFile(old_ + "/site/index.html"), "<h1>hello</h1>");
  ExpectOwner(old_ + "/site/index.html", 1, 1);
}

TEST_F(PlanIdMapTest, RollbackMapsOwnersBackWithTheInverse) {
  if (!AmRoot()) GTEST_SKIP() << "needs root to chown";
  WriteFile(old_ + "/site/index.html", "<h1>hello</h1>");
  WriteFile(old_ + "/site/data/app.db", "rows");
  ASSERT_EQ(::chown((old_ + "/site/index.html").c_str(), 1, 1), 0);  // daemon
  ASSERT_EQ(::chown((old_ + "/site/data").c_str(), 2, 2), 0);        // bin
  ASSERT_EQ(::chown((old_ + "/site/data/app.db").c_str(), 2, 2), 0);
  WritePlan("daemon:sys,2:nobody", "daemon:sys,bin:adm");
  Proc s1 = Plan({"run", plan_, "--phase", "stage-one"});
  ASSERT_EQ(s1.code, 0) << s1.Dump();
  Proc cut = Plan({"run", plan_, "--phase", "cutover"});
  ASSERT_EQ(cut.code, 0) << cut.Dump();
  ExpectOwner(new_ + "/site/index.html", 3, 3);
  ExpectOwner(new_ + "/site/data/app.db", 65534, 4);

  // On the new server: a changed file, a new one owned by the mapped users,
  // a file whose owner changed to another mapped one.
  WriteFile(new_ + "/site/index.html", "<h1>changed on new</h1>");
  WriteFile(new_ + "/site/orders/1.json", "{}");
  ASSERT_EQ(::chown((new_ + "/site/orders").c_str(), 65534, 4), 0);
  ASSERT_EQ(::chown((new_ + "/site/orders/1.json").c_str(), 3, 4), 0);
  Proc back = Plan({"run", plan_, "--phase", "rollback"});
  ASSERT_EQ(back.code, 0) << back.Dump();
  EXPECT_EQ(ReadFile(old_ + "/site/index.html"), "<h1>changed on new</h1>");
  ExpectOwner(old_ + "/site/index.html", 1, 1);      // sys:sys -> daemon:daemon
  ExpectOwner(old_ + "/site/data/app.db", 2, 2);     // nobody:adm -> 2:bin
  ExpectOwner(old_ + "/site/orders", 2, 2);
  ExpectOwner(old_ + "/site/orders/1.json", 1, 2);
  ExpectOwner(old_ + "/site", 0, 0);                 // root: no rule, kept
}

TEST_F(PlanIdMapTest, TwoNamesOntoOneRefuseTheRollback) {
  if (!AmRoot()) GTEST_SKIP() << "needs root to chown";
  WriteFile(old_ + "/site/index.html", "<h1>hello</h1>");
  WritePlan("daemon:sys,bin:sys", "daemon:sys");
  Proc s1 = Plan({"run", plan_, "--phase", "stage-one"});
  ASSERT_EQ(s1.code, 0) << s1.Dump();
  Proc cut = Plan({"run", plan_, "--phase", "cutover"});
  ASSERT_EQ(cut.code, 0) << cut.Dump();
  Proc back = Plan({"run", plan_, "--phase", "rollback"});
  EXPECT_EQ(back.code, 1) << back.Dump();
  EXPECT_NE(back.err.find("a rollback cannot map owners back to the source: usermap "
                          "\"daemon:sys\" and \"bin:sys\" both map to uid 3 on the "
                          "destination, so its owners cannot be told apart"),
            std::string::npos)
      << back.Dump();
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
