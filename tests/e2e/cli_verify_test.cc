// What a user sees from `ferry verify`: silence and exit 0 on an identical
// copy, rsync -i lines and exit 8 on differences, JSON lines with --json,
// exit 23 with the path on stderr when something cannot be read.
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

class CliVerifyTest : public E2eTest {
 protected:
  // `ferry verify --io=<param> ARGS...`
  Proc Verify(std::vector<std::string> args, bool as_nobody = false) {
    std::vector<std::string> argv = {Ferry(), "verify", std::string("--io=") + GetParam().name};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, tmp_.path(), as_nobody);
  }

  // A source tree and a copy made by `ferry sync`.
  void MakeCopy() {
    WriteFile(S("file"), "content");
    WriteFile(S("large"), std::string(1 << 20, 'L'));
    WriteFile(S("dir/inner"), "inner");
    ASSERT_EQ(::symlink("file", S("link").c_str()), 0);
    ASSERT_EQ(::link(S("file").c_str(), S("dir/hard").c_str()), 0);
    Proc p = Sync({src_ + "/", dst_ + "/"});
    ASSERT_EQ(p.code, 0) << p.Dump();
  }

  // Rewrites DST's copy with other bytes of the same length and mtime.
  void FlipByte(const std::string& rel) {
    struct stat st = LStat(D(rel));
    std::string c = ReadFile(D(rel));
    c[c.size() / 2] = static_cast<char>(c[c.size() / 2] ^ 0x20);
    WriteFile(D(rel), c);
    struct timespec ts[2] = {{0, UTIME_OMIT}, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, D(rel).c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
  }
};

TEST_P(CliVerifyTest, IdenticalCopyIsSilentAndExitsZero) {
  MakeCopy();
  Proc p = Verify({src_ + "/", dst_ + "/"});
  EXPECT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(p.out, "") << p.Dump();
}

TEST_P(CliVerifyTest, DifferencesAreItemizedAndExit8) {
  MakeCopy();
  FlipByte("file");  // also dir/hard: the same inode
  FlipByte("large");
  ASSERT_EQ(::chmod(D("dir/inner").c_str(), 0600), 0);
  WriteFile(D("extra"), "only in DST");
  ASSERT_EQ(::unlink(D("link").c_str()), 0);
  ASSERT_EQ(::symlink("elsewhere", D("link").c_str()), 0);
  Proc p = Verify({src_ + "/", dst_ + "/"});
  EXPECT_EQ(p.code, 8) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, ">fc........ file")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, ">fc........ dir/hard")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, ">fc........ large")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, ".f...p..... dir/inner")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, "*deleting   extra")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, "cLc.t...... link -> file")) << p.Dump();
  // DST's root changed too (an entry was added); nothing else is listed.
  EXPECT_TRUE(HasLine(p.out, ".d..t...... ./")) << p.Dump();
  EXPECT_EQ(Lines(p.out).size(), 7u) << p.Dump();
}

TEST_P(CliVerifyTest, JsonLinesParse) {
  MakeCopy();
  FlipByte("file");
  WriteFile(D("dir/extra"), "e");
  Proc p = Verify({"--json", "--no-times", src_ + "/", dst_ + "/"});
  EXPECT_EQ(p.code, 8) << p.Dump();
  std::vector<std::string> lines = Lines(p.out);
  ASSERT_GE(lines.size(), 2u) << p.Dump();
  std::vector<nlohmann::json> objs;
  for (const std::string& l : lines) {
    nlohmann::json j = nlohmann::json::parse(l, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << l;
    objs.push_back(j);
  }
  const nlohmann::json& sum = objs.back();
  EXPECT_EQ(sum.value("event", ""), "summary") << lines.back();
  EXPECT_EQ(sum.value("exit_code", -1), 8) << lines.back();
  EXPECT_EQ(sum.value("differences", 0), 3) << p.Dump();  // file, dir/hard, dir/extra
  EXPECT_EQ(sum.value("identical", true), false);
  bool saw_content = false, saw_extra = false;
  for (size_t i = 0; i + 1 < objs.size(); ++i) {
    const nlohmann::json& j = objs[i];
    EXPECT_EQ(j.value("event", ""), "difference") << j.dump();
    if (j.value("path", "") == "file") {
      saw_content = true;
      EXPECT_EQ(j.value("item", ""), ">fc........");
      EXPECT_EQ(j.value("kind", ""), "changed");
      EXPECT_EQ(j["changed"], nlohmann::json::array({"content"})) << j.dump();
      EXPECT_NE(j.value("src_xxh128", ""), j.value("dst_xxh128", "")) << j.dump();
      EXPECT_EQ(j.value("src_xxh128", "").size(), 32u) << j.dump();
      EXPECT_EQ(j["src"].value("size", 0), 7) << j.dump();
    }
    if (j.value("path", "") == "dir/extra") {
      saw_extra = true;
      EXPECT_EQ(j.value("kind", ""), "extra");
      EXPECT_EQ(j.value("item", ""), "*deleting  ");
    }
  }
  EXPECT_TRUE(saw_content && saw_extra) << p.Dump();
}

TEST_P(CliVerifyTest, UnreadablePathExits23WithPathOnStderr) {
  MakeCopy();
  if (!AmRoot()) GTEST_SKIP() << "needs root to run ferry as another user";
  bool as_nobody = true;
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(D("dir").c_str(), 0700), 0);  // DST's dir/ now unreadable to nobody
  ASSERT_EQ(::chmod(S("dir").c_str(), 0700), 0);  // same mode both sides
  ASSERT_EQ(::chown(S("dir").c_str(), 65534, 65534), 0);  // SRC's dir/ readable to nobody
  Proc p = Verify({"--no-owner", "--no-group", src_ + "/", dst_ + "/"}, as_nobody);
  if (p.code == 125 || p.code == 127) GTEST_SKIP() << "cannot run ferry as uid 65534: " << p.Dump();
  EXPECT_EQ(p.code, 23) << p.Dump();
  EXPECT_NE(p.err.find("dir/: DST: "), std::string::npos) << p.Dump();
  EXPECT_NE(p.err.find("Permission denied"), std::string::npos) << p.Dump();
}

TEST_P(CliVerifyTest, UsageErrorsExit1) {
  Proc one = Verify({src_ + "/"});
  EXPECT_EQ(one.code, 1) << one.Dump();
  Proc bad = Verify({"--io=floppy", src_ + "/", dst_ + "/"});
  EXPECT_EQ(bad.code, 1) << bad.Dump();
  Proc rule = Verify({"--exclude", "[oops", src_ + "/", dst_ + "/"});
  EXPECT_EQ(rule.code, 1) << rule.Dump();
  EXPECT_NE(rule.err.find("[oops"), std::string::npos) << rule.Dump();
  Proc missing = Verify({tmp_ / "no_such_source/", dst_ + "/"});
  EXPECT_EQ(missing.code, 23) << missing.Dump();
  EXPECT_NE(missing.err.find("no_such_source"), std::string::npos) << missing.Dump();
}

TEST_P(CliVerifyTest, HelpDocumentsExitCodes) {
  Proc p = RunProcess({Ferry(), "verify", "--help"}, tmp_.path());
  EXPECT_EQ(p.code, 0) << p.Dump();
  EXPECT_NE(p.out.find("8 differences found"), std::string::npos) << p.Dump();
  EXPECT_NE(p.out.find("Examples:"), std::string::npos) << p.Dump();
}

FERRY_E2E_INSTANTIATE(CliVerifyTest);

}  // namespace
}  // namespace ferry::e2e
