// What a user sees from `ferry sync`: the -i lines in rsync's format,
// --stats, --json, exit codes, and that -n changes nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

using CliSyncTest = E2eTest;

void SetMtime(const std::string& p, int64_t sec) {
  struct timespec ts[2] = {{0, UTIME_OMIT}, {sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
}

TEST_P(CliSyncTest, ItemizeLinesUseRsyncFormat) {
  WriteFile(S("file"), "version one");
  WriteFile(S("dir/inner"), "inner");
  MakeDirs(S("empty"));
  ASSERT_EQ(::symlink("file", S("link").c_str()), 0);
  Proc first = Sync({"-i", src_ + "/", dst_ + "/"});
  ASSERT_EQ(first.code, 0) << first.Dump();
  EXPECT_TRUE(HasLine(first.out, ">f+++++++++ file")) << first.Dump();
  EXPECT_TRUE(HasLine(first.out, ">f+++++++++ dir/inner")) << first.Dump();
  EXPECT_TRUE(HasLine(first.out, "cd+++++++++ dir/")) << first.Dump();
  EXPECT_TRUE(HasLine(first.out, "cd+++++++++ empty/")) << first.Dump();
  EXPECT_TRUE(HasLine(first.out, "cL+++++++++ link -> file")) << first.Dump();

  WriteFile(S("file"), "version two, longer");
  SetMtime(S("file"), 1600000000);
  WriteFile(D("extra"), "only in DST");
  WriteFile(D("extra_dir/x"), "only in DST");
  Proc second = Sync({"-i", "--delete", src_ + "/", dst_ + "/"});
  ASSERT_EQ(second.code, 0) << second.Dump();
  EXPECT_TRUE(HasLine(second.out, ">f.st...... file")) << second.Dump();
  EXPECT_TRUE(HasLine(second.out, "*deleting   extra")) << second.Dump();
  EXPECT_TRUE(HasLine(second.out, "*deleting   extra_dir/")) << second.Dump();
  EXPECT_TRUE(HasLine(second.out, "*deleting   extra_dir/x")) << second.Dump();
  EXPECT_FALSE(HasLine(second.out, ">f+++++++++ dir/inner")) << "unchanged file listed";

  // Nothing to do: nothing printed.
  Proc third = Sync({"-i", "--delete", src_ + "/", dst_ + "/"});
  ASSERT_EQ(third.code, 0) << third.Dump();
  EXPECT_EQ(third.out, "");
}

TEST_P(CliSyncTest, StatsCountTransferredFiles) {
  for (int i = 0; i < 7; ++i) WriteFile(S("f" + std::to_string(i)), "x");
  WriteFile(S("large"), std::string(600 * 1024, 'L'));
  MakeDirs(S("d"));
  Proc p = Sync({"--stats", src_ + "/", dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, "Number of regular files transferred: 8")) << p.Dump();

  WriteFile(S("f3"), "changed");
  Proc again = Sync({"--stats", src_ + "/", dst_ + "/"});
  ASSERT_EQ(again.code, 0) << again.Dump();
  EXPECT_TRUE(HasLine(again.out, "Number of regular files transferred: 1")) << again.Dump();
}

TEST_P(CliSyncTest, JsonEndsWithTheSummaryLine) {
  for (int i = 0; i < 5; ++i) WriteFile(S("f" + std::to_string(i)), "x");
  WriteFile(S("sub/g"), "y");
  Proc p = Sync({"--json", src_ + "/", dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  std::vector<std::string> lines = Lines(p.out);
  ASSERT_FALSE(lines.empty()) << p.Dump();
  nlohmann::json j = nlohmann::json::parse(lines.back(), nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << lines.back();
  EXPECT_EQ(j.value("event", ""), "summary") << lines.back();
  ASSERT_TRUE(j.contains("transferred_files")) << lines.back();
  EXPECT_EQ(j["transferred_files"].get<uint64_t>(), 6u) << lines.back();
  EXPECT_EQ(j.value("exit_code", -1), 0) << lines.back();
}

TEST_P(CliSyncTest, ExitCodes) {
  WriteFile(S("file"), "f");
  Proc ok = Sync({src_ + "/", dst_ + "/"});
  EXPECT_EQ(ok.code, 0) << ok.Dump();

  Proc bad_flag = Sync({"--no-such-flag", src_ + "/", dst_ + "/"});
  EXPECT_EQ(bad_flag.code, 1) << bad_flag.Dump();
  Proc bad_value = Sync({"--max-delete", "lots", src_ + "/", dst_ + "/"});
  EXPECT_EQ(bad_value.code, 1) << bad_value.Dump();

  Proc missing = Sync({tmp_ / "no_such_source", dst_ + "/"});
  EXPECT_EQ(missing.code, 23) << missing.Dump();
  EXPECT_NE(missing.err.find("no_such_source"), std::string::npos) << missing.Dump();

  MakeDirs(D("x"));
  for (int i = 0; i < 4; ++i) WriteFile(D("extra" + std::to_string(i)), "e");
  Proc max_delete = Sync({"--delete", "--max-delete=2", src_ + "/", dst_ + "/"});
  EXPECT_EQ(max_delete.code, 25) << max_delete.Dump();
  int left = 0;
  for (int i = 0; i < 4; ++i) left += Exists(D("extra" + std::to_string(i)));
  EXPECT_EQ(left + Exists(D("x")), 3) << "deleted other than --max-delete allows";
}

TEST_P(CliSyncTest, UnreadableFileAsNonRootExits23AndCopiesTheRest) {
  WriteFile(S("secret"), "s", 0000);
  WriteFile(S("public"), "p", 0644);
  WriteFile(S("sub/public2"), "p2", 0644);
  bool as_nobody = AmRoot();
  if (as_nobody) {
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
    MakeDirs(dst_);
    ASSERT_EQ(::chown(dst_.c_str(), 65534, 65534), 0);
  }
  Proc p = Sync({src_ + "/", dst_ + "/"}, as_nobody);
  if (p.code == 125 || p.code == 127) GTEST_SKIP() << "cannot run ferry as uid 65534: " << p.Dump();
  EXPECT_EQ(p.code, 23) << p.Dump();
  EXPECT_NE(p.err.find("secret"), std::string::npos) << p.Dump();
  EXPECT_FALSE(Exists(D("secret")));
  EXPECT_EQ(ReadFile(D("public")), "p");
  EXPECT_EQ(ReadFile(D("sub/public2")), "p2");
}

TEST_P(CliSyncTest, DryRunChangesNothing) {
  WriteFile(S("file"), "new content");
  WriteFile(S("dir/inner"), "i");
  ASSERT_EQ(::symlink("file", S("link").c_str()), 0);
  MakeDirs(dst_);
  WriteFile(D("file"), "old");
  SetMtime(D("file"), 1500000000);
  WriteFile(D("extra"), "e");
  auto before = Listing(dst_);
  Proc p = Sync({"-n", "-i", "--delete", src_ + "/", dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Listing(dst_), before) << "-n changed DST\n" << p.Dump();
  EXPECT_TRUE(HasLine(p.out, ">f.st...... file")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, "*deleting   extra")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, ">f+++++++++ dir/inner")) << p.Dump();
}

TEST_P(CliSyncTest, DryRunIntoAMissingDestination) {
  WriteFile(S("file"), "f");
  WriteFile(S("dir/inner"), "i");
  Proc q = Sync({"-n", "-i", src_ + "/", dst_ + "/"});
  EXPECT_EQ(q.code, 0) << q.Dump();
  EXPECT_TRUE(HasLine(q.out, ">f+++++++++ dir/inner")) << q.Dump();
  EXPECT_FALSE(Exists(dst_)) << "-n created DST";
}

// `ferry sync A/ B/ DST/` merges both sources into DST, as rsync does:
// --delete removes only what neither source has.
TEST_P(CliSyncTest, SeveralSourcesMergeIntoOneDestination) {
  WriteFile(tmp_ / "a/one", "1");
  WriteFile(tmp_ / "a/shared/x", "x");
  WriteFile(tmp_ / "b/two", "2");
  WriteFile(tmp_ / "b/shared/y", "y");
  Proc p = Sync({tmp_ / "a/", tmp_ / "b/", dst_ + "/"});
  EXPECT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(ReadFile(D("one")), "1") << p.Dump();
  EXPECT_EQ(ReadFile(D("two")), "2") << p.Dump();
  EXPECT_EQ(ReadFile(D("shared/x")), "x") << p.Dump();
  EXPECT_EQ(ReadFile(D("shared/y")), "y") << p.Dump();
}

// Deleting what no source has needs all sources in one pass; until ferry does
// that, --delete with several sources is refused before anything is touched
// (run one source at a time, the second would delete the first's files).
TEST_P(CliSyncTest, SeveralSourcesWithDeleteAreRefusedAndNothingIsTouched) {
  WriteFile(tmp_ / "a/one", "1");
  WriteFile(tmp_ / "b/two", "2");
  MakeDirs(dst_);
  WriteFile(D("stale"), "in neither source");
  Proc p = Sync({"--delete", tmp_ / "a/", tmp_ / "b/", dst_ + "/"});
  EXPECT_EQ(p.code, 1) << p.Dump();
  EXPECT_NE(p.err.find("--delete with several sources"), std::string::npos) << p.Dump();
  EXPECT_TRUE(Exists(D("stale"))) << p.Dump();
  EXPECT_FALSE(Exists(D("one"))) << p.Dump();
}

FERRY_E2E_INSTANTIATE(CliSyncTest);

}  // namespace
}  // namespace ferry::e2e
