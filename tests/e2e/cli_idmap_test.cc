// `ferry sync --usermap/--groupmap/--chown` as a sysadmin uses them: owners on
// DST are the mapped ones, the next -i pass prints nothing, and a bad pair or
// an unknown name is a usage error (exit 1) that names it and writes nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

using CliIdMapTest = E2eTest;

TEST_P(CliIdMapTest, UsermapGroupmapThenNothingToDo) {
  if (!AmRoot()) GTEST_SKIP() << "needs root to chown";
  WriteFile(S("www/index.html"), "<html>");
  WriteFile(S("mail/msg"), "From: a");
  ASSERT_EQ(::chown(S("www").c_str(), 1, 1), 0);             // daemon:daemon
  ASSERT_EQ(::chown(S("www/index.html").c_str(), 1, 1), 0);
  ASSERT_EQ(::chown(S("mail").c_str(), 2, 2), 0);            // bin:bin
  ASSERT_EQ(::chown(S("mail/msg").c_str(), 2, 2), 0);
  std::vector<std::string> flags = {"-i", "--usermap=daemon:sys,2:nobody",
                                    "--groupmap=d*:adm,bin:65534"};
  auto with = [&](std::vector<std::string> f) {
    f.push_back(src_ + "/");
    f.push_back(dst_ + "/");
    return f;
  };
  Proc first = Sync(with(flags));
  ASSERT_EQ(first.code, 0) << first.Dump();
  struct stat st;
  ASSERT_EQ(::lstat(D("www/index.html").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 3u);
  EXPECT_EQ(st.st_gid, 4u);
  ASSERT_EQ(::lstat(D("mail/msg").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);

  Proc second = Sync(with(flags));
  ASSERT_EQ(second.code, 0) << second.Dump();
  EXPECT_EQ(second.out, "") << "a pass after a mapped sync must change nothing";

  // --chown moves every owner; -i shows the owner and group change.
  Proc chown = Sync(with({"-i", "--chown=bin:sys"}));
  ASSERT_EQ(chown.code, 0) << chown.Dump();
  EXPECT_TRUE(HasLine(chown.out, ".f....og... mail/msg")) << chown.Dump();
  ASSERT_EQ(::lstat(D("www/index.html").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 2u);
  EXPECT_EQ(st.st_gid, 3u);
}

TEST_P(CliIdMapTest, BadMapsAreUsageErrors) {
  WriteFile(S("f"), "x");
  struct Case {
    std::string flag, says;
  } cases[] = {
      {"--usermap=alice:no-such-user-ferry", "\"no-such-user-ferry\""},
      {"--groupmap=*:no-such-group-ferry", "\"no-such-group-ferry\""},
      {"--usermap=alice", "bad pair \"alice\""},
      {"--usermap=alice:bob,carol:", "bad pair \"carol:\""},
      {"--chown=:", "--chown=:"},
  };
  for (const Case& c : cases) {
    Proc p = Sync({c.flag, src_ + "/", dst_ + "/"});
    EXPECT_EQ(p.code, 1) << c.flag << "\n" << p.Dump();
    EXPECT_NE(p.err.find(c.says), std::string::npos) << c.flag << "\n" << p.Dump();
    EXPECT_FALSE(Exists(dst_)) << c.flag << ": nothing may be written";
  }
  Proc both = Sync({"--chown=bin:bin", "--usermap=1:2", src_ + "/", dst_ + "/"});
  EXPECT_EQ(both.code, 1) << both.Dump();
  EXPECT_NE(both.err.find("cannot be combined"), std::string::npos) << both.Dump();
}

// `ferry verify` with the maps the copy was made with: SRC's owners are
// mapped before they are compared, so the copy is identical; without the
// maps (or with others) each mapped owner is a difference.
TEST_P(CliIdMapTest, VerifyWithTheSyncsMapsIsSilent) {
  if (!AmRoot()) GTEST_SKIP() << "needs root to chown";
  WriteFile(S("www/index.html"), "<html>");
  WriteFile(S("mail/msg"), "From: a");
  ASSERT_EQ(::chown(S("www/index.html").c_str(), 1, 1), 0);  // daemon:daemon
  ASSERT_EQ(::chown(S("mail/msg").c_str(), 2, 2), 0);        // bin:bin
  std::vector<std::string> maps = {"--usermap=daemon:sys,2:nobody", "--groupmap=d*:adm,bin:65534"};
  auto with = [&](std::vector<std::string> f) {
    f.push_back(src_ + "/");
    f.push_back(dst_ + "/");
    return f;
  };
  Proc sync = Sync(with(maps));
  ASSERT_EQ(sync.code, 0) << sync.Dump();
  auto verify = [&](std::vector<std::string> f) {
    std::vector<std::string> argv = {Ferry(), "verify", std::string("--io=") + GetParam().name};
    for (const std::string& a : with(f)) argv.push_back(a);
    return RunProcess(argv, tmp_.path());
  };
  Proc plain = verify({});
  EXPECT_EQ(plain.code, 8) << plain.Dump();
  EXPECT_TRUE(HasLine(plain.out, ".f....og... www/index.html")) << plain.Dump();
  EXPECT_TRUE(HasLine(plain.out, ".f....og... mail/msg")) << plain.Dump();
  Proc mapped = verify(maps);
  EXPECT_EQ(mapped.code, 0) << mapped.Dump();
  EXPECT_EQ(mapped.out, "") << mapped.Dump();
  // Only the owner mapped: the groups still differ.
  Proc users_only = verify({maps[0]});
  EXPECT_EQ(users_only.code, 8) << users_only.Dump();
  EXPECT_TRUE(HasLine(users_only.out, ".f.....g... mail/msg")) << users_only.Dump();
  Proc chown = verify({"--chown=sys:adm"});
  EXPECT_EQ(chown.code, 8) << chown.Dump();
  EXPECT_TRUE(HasLine(chown.out, ".f....og... mail/msg")) << chown.Dump();
  EXPECT_FALSE(HasLine(chown.out, ".f....og... www/index.html")) << chown.Dump();
  Proc bad = verify({"--usermap=alice:no-such-user-ferry"});
  EXPECT_EQ(bad.code, 1) << bad.Dump();
  EXPECT_NE(bad.err.find("no-such-user-ferry"), std::string::npos) << bad.Dump();
}

FERRY_E2E_INSTANTIATE(CliIdMapTest);

}  // namespace
}  // namespace ferry::e2e
