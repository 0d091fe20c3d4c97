// The ferry binary's face of rename and append detection: -i notation,
// --stats lines, --json keys, and the flags that turn them off or set --mail.
#include <nlohmann/json.hpp>

#include <string>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

using ReuseCliTest = E2eTest;

nlohmann::json Summary(const Proc& p) {
  auto lines = Lines(p.out);
  return lines.empty() ? nlohmann::json() : nlohmann::json::parse(lines.back(), nullptr, false);
}

TEST_P(ReuseCliTest, MovedFileIsItemizedAsARenameAndCountedInStatsAndJson) {
  WriteFile(S("a/msg"), std::string(20000, 'm'));
  ASSERT_EQ(Sync({src_ + "/", dst_ + "/"}).code, 0);
  ASSERT_EQ(::rename(S("a/msg").c_str(), S("msg2").c_str()), 0);

  Proc p = Sync({"-i", "--delete", "--stats", src_ + "/", dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, "cf+++++++++ msg2 => a/msg")) << p.Dump();
  EXPECT_FALSE(HasLine(p.out, "*deleting   a/msg")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, "Number of files renamed within DST: 1")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, "Data not sent (renamed or copied within DST): 20,000 bytes")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, "Literal data: 0 bytes")) << p.Dump();

  ASSERT_EQ(::rename(S("msg2").c_str(), S("msg3").c_str()), 0);
  Proc j = Sync({"--json", "--delete", src_ + "/", dst_ + "/"});
  ASSERT_EQ(j.code, 0) << j.Dump();
  auto s = Summary(j);
  ASSERT_TRUE(s.is_object()) << j.Dump();
  EXPECT_EQ(s["renamed_files"], 1) << j.Dump();
  EXPECT_NE(j.out.find(R"("action":"rename")"), std::string::npos) << j.Dump();
  EXPECT_NE(j.out.find(R"("target":"msg2")"), std::string::npos) << j.Dump();
  EXPECT_EQ(s["renamed_bytes"], 20000) << j.Dump();
  EXPECT_EQ(s["literal_bytes"], 0) << j.Dump();
}

TEST_P(ReuseCliTest, NoDetectRenamesSendsTheMovedFile) {
  WriteFile(S("a"), std::string(5000, 'x'));
  ASSERT_EQ(Sync({src_ + "/", dst_ + "/"}).code, 0);
  ASSERT_EQ(::rename(S("a").c_str(), S("b").c_str()), 0);
  Proc p = Sync({"-i", "--delete", "--no-detect-renames", src_ + "/", dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, ">f+++++++++ b")) << p.Dump();
  EXPECT_TRUE(HasLine(p.out, "*deleting   a")) << p.Dump();
  p = Sync({"--delete", "--no-detect-renames", "--json", src_ + "/", dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Summary(p)["literal_bytes"], 0) << p.Dump();  // nothing left to do
  ASSERT_EQ(::rename(S("b").c_str(), S("c").c_str()), 0);
  p = Sync({"--delete", "--no-detect-renames", "--json", src_ + "/", dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_NE(p.out.find(R"("action":"send","bytes":5000,"event":"file","item":">f+++++++++","path":"c")"),
            std::string::npos) << p.Dump();
  EXPECT_EQ(Summary(p)["literal_bytes"], 5000) << p.Dump();
}

TEST_P(ReuseCliTest, GrownFileCountsAsAppendedInJson) {
  std::string body(100000, 'l');
  WriteFile(S("log"), body);
  ASSERT_EQ(Sync({src_ + "/", dst_ + "/"}).code, 0);
  WriteFile(S("log"), body + "new line\n");
  Proc p = Sync({"--json", src_ + "/", dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  auto s = Summary(p);
  EXPECT_EQ(s["appended_files"], 1) << p.Dump();
  EXPECT_EQ(s["append_reused_bytes"], 100000) << p.Dump();
  EXPECT_EQ(s["literal_bytes"], 9) << p.Dump();
  EXPECT_EQ(ReadFile(D("log")), body + "new line\n");
}

TEST_P(ReuseCliTest, BadMailModeIsAUsageErrorNamingTheValue) {
  Proc p = Sync({"--mail=maybe", src_ + "/", dst_ + "/"});
  EXPECT_EQ(p.code, 1) << p.Dump();
  EXPECT_NE(p.err.find("--mail"), std::string::npos) << p.Dump();
  EXPECT_NE(p.err.find("maybe"), std::string::npos) << p.Dump();
  EXPECT_FALSE(Exists(dst_));
}

TEST_P(ReuseCliTest, MailOffCopiesMaildirTmp) {
  WriteFile(S("Maildir/cur/1"), "m");
  WriteFile(S("Maildir/new/2"), "n");
  WriteFile(S("Maildir/tmp/3"), "half");
  Proc on = Sync({src_ + "/", dst_ + "/"});
  ASSERT_EQ(on.code, 0) << on.Dump();
  EXPECT_FALSE(Exists(D("Maildir/tmp/3")));
  Proc off = Sync({"--mail=off", src_ + "/", dst_ + "/"});
  ASSERT_EQ(off.code, 0) << off.Dump();
  EXPECT_EQ(ReadFile(D("Maildir/tmp/3")), "half");
}

FERRY_E2E_INSTANTIATE(ReuseCliTest);

}  // namespace
}  // namespace ferry::e2e
