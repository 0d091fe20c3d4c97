// Append detection: a file that only grew is rebuilt from DST's copy plus
// SRC's tail; a file whose start changed (one byte, or truncated and
// regrown) is sent whole. rsync judges every result.
#include <string>

#include "tests/engine/transfer/reuse_test_util.h"

namespace ferry::sync_test {
namespace {

class AppendTest : public SyncTest {
 protected:
  void SetUp() override {
    SyncTest::SetUp();
    if (IsSkipped()) return;
    if (!HaveRsync()) GTEST_SKIP() << "rsync is not installed (the oracle)";
  }
  void Append(const std::string& path, const std::string& more) {
    WriteFile(path, ReadFile(path) + more);
  }
};

// An mbox of about 200 KiB gets one more message.
std::string Mbox(int messages) {
  std::string s;
  for (int m = 0; m < messages; ++m)
    s += "From sender@example.org Mon Jan  1 00:00:00 2024\nSubject: " + std::to_string(m) +
         "\n\n" + Pattern(2000, static_cast<unsigned>(m)) + "\n\n";
  return s;
}

TEST_P(AppendTest, GrownMboxSendsOnlyTheTail) {
  WriteFile(S("mail/inbox"), Mbox(100));
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  uint64_t old_size = ReadFile(S("mail/inbox")).size();
  std::string more = Mbox(101).substr(old_size);
  Append(S("mail/inbox"), more);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_TRUE(SameContent(ReadFile(D("mail/inbox")), ReadFile(S("mail/inbox"))));
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_EQ(run->events.ItemFor("mail/inbox"), ">f.st......") << run->Dump();
  EXPECT_EQ(run->stats.appended_files.load(), 1u);
  EXPECT_EQ(run->stats.append_reused_bytes.load(), old_size);
  EXPECT_EQ(SentBytes(*run), more.size()) << "only the new message is sent";
}

TEST_P(AppendTest, GrownLogInDeltaModeSendsOnlyTheTailWithoutASignature) {
  // Below the whole-file threshold: in delta mode every size qualifies.
  std::string log;
  for (int i = 0; i < 300; ++i) log += "Jan  1 00:00:" + std::to_string(i % 60) + " host sshd: line " + std::to_string(i) + "\n";
  WriteFile(S("app.log"), log);
  SyncOptions o = Options();
  o.whole_file = false;
  auto first = Sync(o);
  ASSERT_TRUE(first->clean()) << first->Dump();
  std::string more = "Jan  1 00:01:00 host sshd: one more line\n";
  Append(S("app.log"), more);

  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(ReadFile(D("app.log")), log + more);
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_EQ(run->stats.appended_files.load(), 1u);
  EXPECT_EQ(SentBytes(*run), more.size());
  EXPECT_EQ(run->stats.matched_bytes.load(), log.size());
}

TEST_P(AppendTest, PrefixDifferingInOneByteIsSentWhole) {
  std::string body = Pattern(100000, 1);
  WriteFile(S("f"), body);
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  std::string changed = body;
  changed[50000] = changed[50000] == 'a' ? 'b' : 'a';
  WriteFile(S("f"), changed + "tail");

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_TRUE(SameContent(ReadFile(D("f")), changed + "tail"));
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_EQ(run->stats.appended_files.load(), 0u);
  EXPECT_EQ(SentBytes(*run), changed.size() + 4);
}

TEST_P(AppendTest, TruncatedThenRegrownFileIsSentWhole) {
  WriteFile(S("log"), Pattern(80000, 2));
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  // Rotated in place: truncated, then new lines past the old size.
  std::string regrown = Pattern(90000, 3);
  WriteFile(S("log"), regrown);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_TRUE(SameContent(ReadFile(D("log")), regrown));
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_EQ(run->stats.appended_files.load(), 0u);
  EXPECT_EQ(SentBytes(*run), regrown.size());
}

TEST_P(AppendTest, SmallFileInWholeFileModeIsSimplyCopied) {
  WriteFile(S("small"), Pattern(1000, 4));
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  Append(S("small"), "more");
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_EQ(run->stats.appended_files.load(), 0u);
  EXPECT_EQ(SentBytes(*run), 1004u);
}

TEST_P(AppendTest, DetectionOffSendsTheWholeFile) {
  WriteFile(S("big"), Pattern(200000, 5));
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  Append(S("big"), "tail");
  SyncOptions o = Options();
  o.detect_appends = false;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_EQ(run->stats.appended_files.load(), 0u);
  EXPECT_EQ(SentBytes(*run), 200004u);
}

FERRY_INSTANTIATE_BACKENDS(AppendTest);

}  // namespace
}  // namespace ferry::sync_test
