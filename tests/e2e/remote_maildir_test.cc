// --mail over the wire (PROTOCOL.md Options bits 17/18), push and pull over
// the remote-shell stand-in, on an account with two Maildir folders:
//  - tmp/ of a folder is listed but its contents (half-delivered messages)
//    are not copied, and --delete spares DST's own tmp/ contents; a tmp/
//    outside a folder is copied as any directory;
//  - a folder's index files (dovecot-uidlist, dovecot-keywords,
//    subscriptions, dovecot.index*) land after every message of the folder
//    landed and after its expunged messages were deleted: seen in the -i
//    output, which the receiver writes as it lands and deletes;
//  - the rsync oracle with the folders' tmp/ contents excluded
//    (`rsync -aHAXc -n -i --delete --exclude '/F/tmp/*'`) prints nothing.
// With --mail=off the same tree is copied as rsync would (tmp/ contents too).
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

#ifndef FERRY_STANDIN
#error "FERRY_STANDIN must name tests/remote_shell_standin.sh"
#endif

namespace ferry::e2e {
namespace {

const std::vector<std::string> kFolders = {"acct/Maildir", "acct/Maildir/.Sent"};
const std::vector<std::string> kIndexFiles = {"dovecot-uidlist", "dovecot-keywords",
                                              "subscriptions", "dovecot.index",
                                              "dovecot.index.log"};

std::string Msg(int i) {
  return "17000" + std::to_string(10000 + i) + ".M" + std::to_string(i) + "P7.host,S=" +
         std::to_string(100 + i);
}

// The path of an -i line ("*deleting   p", ">f+++++++++ p", "... p => old").
std::string ItemPath(const std::string& line) {
  if (line.size() < 13) return "";
  std::string p = line.substr(12);
  for (const char* sep : {" => ", " == "}) {
    if (size_t k = p.find(sep); k != std::string::npos) p = p.substr(0, k);
  }
  return p;
}

struct Direction {
  const char* name;
  bool push;
};
void PrintTo(const Direction& d, std::ostream* os) { *os << d.name; }

class RemoteMaildirTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    if (ferry::testing::Shell("command -v rsync >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "rsync is not installed";
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    MakeDirs(src_);
    MakeDirs(dst_);
  }

  Proc Sync(std::vector<std::string> extra) {
    std::vector<std::string> argv = {Ferry(),         "sync", "--no-progress", "-e",
                                     FERRY_STANDIN, "--remote-ferry", Ferry(), "-a",
                                     "--delete",      "-i"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(GetParam().push ? src_ + "/" : "testhost:" + src_ + "/");
    argv.push_back(GetParam().push ? "testhost:" + dst_ + "/" : dst_ + "/");
    return RunProcess(argv, tmp_.path());
  }

  std::string Oracle(bool exclude_tmp) {
    std::string cmd = "rsync -aHAXc --dry-run --itemize-changes --delete --modify-window=-1 ";
    if (exclude_tmp)
      for (const std::string& f : kFolders) cmd += "--exclude '/" + f + "/tmp/*' ";
    std::string out;
    ferry::testing::Shell(cmd + "'" + src_ + "/' '" + dst_ + "/' 2>&1", &out);
    return out;
  }

  std::string S(const std::string& rel) const { return src_ + "/" + rel; }
  std::string D(const std::string& rel) const { return dst_ + "/" + rel; }

  void BuildAccount() {
    for (const std::string& f : kFolders) {
      MakeDirs(S(f + "/cur"));
      MakeDirs(S(f + "/new"));
      MakeDirs(S(f + "/tmp"));
      for (const std::string& n : kIndexFiles) WriteFile(S(f + "/" + n), n + " of " + f + "\n");
      WriteFile(S(f + "/tmp/" + Msg(999)), "half-delivered");
    }
    for (int i = 0; i < 30; ++i)
      WriteFile(S("acct/Maildir/cur/" + Msg(i) + ":2,S"), Pattern(100 + i, i));
    for (int i = 30; i < 33; ++i) WriteFile(S("acct/Maildir/new/" + Msg(i)), Pattern(100 + i, i));
    for (int i = 40; i < 50; ++i)
      WriteFile(S("acct/Maildir/.Sent/cur/" + Msg(i) + ":2,S"), Pattern(100 + i, i));
    // Not a folder (no cur/ new/): its tmp/ is an ordinary directory.
    WriteFile(S("notmail/tmp/keep.txt"), "copied");
    // DST's own half deliveries, which --delete must spare.
    for (const std::string& f : kFolders) WriteFile(D(f + "/tmp/dst-half"), "DST delivery");
  }

  // A day of IMAP: expunges, flag changes (renames), deliveries, new indexes.
  void ChangeAccount() {
    for (int i = 0; i < 5; ++i) ASSERT_EQ(::unlink(S("acct/Maildir/cur/" + Msg(i) + ":2,S").c_str()), 0);
    for (int i = 5; i < 8; ++i)
      ASSERT_EQ(::rename(S("acct/Maildir/cur/" + Msg(i) + ":2,S").c_str(),
                         S("acct/Maildir/cur/" + Msg(i) + ":2,RS").c_str()), 0);
    for (int i = 60; i < 64; ++i) WriteFile(S("acct/Maildir/new/" + Msg(i)), Pattern(300 + i, i));
    for (int i = 40; i < 42; ++i)
      ASSERT_EQ(::unlink(S("acct/Maildir/.Sent/cur/" + Msg(i) + ":2,S").c_str()), 0);
    for (const std::string& f : kFolders) {
      WriteFile(S(f + "/dovecot-uidlist"), "3 V1 N70\nchanged " + f + "\n");
      WriteFile(S(f + "/dovecot.index.log"), "grown log of " + f + "\n" + Pattern(5000, 9));
      WriteFile(S(f + "/tmp/" + Msg(998)), "another half delivery");
    }
  }

  // For each folder: every index file line comes after every line of the
  // folder's cur/ and new/ (landed or deleted). Returns how many message
  // lines preceded index lines, so a caller can insist the check bit.
  int ExpectIndexesLast(const std::string& out) {
    const std::vector<std::string> lines = Lines(out);
    int checked = 0;
    for (const std::string& f : kFolders) {
      int last_msg = -1, first_index = -1;
      for (int i = 0; i < static_cast<int>(lines.size()); ++i) {
        // Files landed, renamed or copied, and deletions (not the
        // directories' times, which are set at the very end).
        if (lines[i].size() < 2 || (lines[i][1] != 'f' && !lines[i].starts_with("*deleting")))
          continue;
        const std::string p = ItemPath(lines[i]);
        if (p.starts_with(f + "/cur/") || p.starts_with(f + "/new/")) last_msg = i;
        for (const std::string& n : kIndexFiles)
          if (p == f + "/" + n && first_index < 0) first_index = i;
      }
      if (first_index < 0) continue;
      EXPECT_GT(first_index, last_msg) << f << ": an index file landed before a message\n" << out;
      if (last_msg >= 0) ++checked;
    }
    return checked;
  }

  TempDir tmp_;
  std::string src_, dst_;
};

TEST_P(RemoteMaildirTest, TmpContentsStayAndIndexesLandAfterMessages) {
  BuildAccount();
  Proc p = Sync({});
  ASSERT_EQ(p.code, 0) << p.Dump();
  for (const std::string& f : kFolders) {
    EXPECT_TRUE(Exists(D(f + "/tmp"))) << f;
    EXPECT_FALSE(Exists(D(f + "/tmp/" + Msg(999)))) << f << ": half delivery copied";
    EXPECT_EQ(ReadFile(D(f + "/tmp/dst-half")), "DST delivery") << f;
    EXPECT_EQ(ReadFile(D(f + "/dovecot-uidlist")), "dovecot-uidlist of " + f + "\n");
  }
  EXPECT_EQ(ReadFile(D("notmail/tmp/keep.txt")), "copied");
  EXPECT_EQ(ExpectIndexesLast(p.out), 2) << p.out;
  EXPECT_EQ(Oracle(true), "");

  ChangeAccount();
  p = Sync({});
  ASSERT_EQ(p.code, 0) << p.Dump();
  // The expunged messages are gone before any index file of their folder landed.
  EXPECT_TRUE(HasLine(p.out, "*deleting   acct/Maildir/cur/" + Msg(0) + ":2,S")) << p.out;
  EXPECT_TRUE(HasLine(p.out, "*deleting   acct/Maildir/.Sent/cur/" + Msg(40) + ":2,S")) << p.out;
  EXPECT_EQ(ExpectIndexesLast(p.out), 2) << p.out;
  for (const std::string& f : kFolders) {
    EXPECT_FALSE(Exists(D(f + "/tmp/" + Msg(998)))) << f;
    EXPECT_EQ(ReadFile(D(f + "/tmp/dst-half")), "DST delivery") << f;
  }
  EXPECT_EQ(Oracle(true), "");
}

// --streams 3: each stream lands its share of the messages, and the index
// files land once, in the final pass, after all of them and the deletions.
TEST_P(RemoteMaildirTest, StreamsLeaveIndexFilesToTheFinalPass) {
  BuildAccount();
  Proc p = Sync({"--streams", "3"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(ExpectIndexesLast(p.out), 2) << p.out;
  EXPECT_EQ(Oracle(true), "");
  ChangeAccount();
  p = Sync({"--streams", "3"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(ExpectIndexesLast(p.out), 2) << p.out;
  int uidlists = 0;
  for (const std::string& l : Lines(p.out))
    if (ItemPath(l) == "acct/Maildir/dovecot-uidlist") ++uidlists;
  EXPECT_EQ(uidlists, 1) << p.out;
  EXPECT_EQ(Oracle(true), "");
}

// The mode travels: with --mail=off a folder is a plain tree, so tmp/
// contents are copied and DST's own are deleted, as rsync does.
TEST_P(RemoteMaildirTest, MailOffCopiesTmpAsRsyncDoes) {
  BuildAccount();
  Proc p = Sync({"--mail=off"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  for (const std::string& f : kFolders) {
    EXPECT_EQ(ReadFile(D(f + "/tmp/" + Msg(999))), "half-delivered") << f;
    EXPECT_FALSE(Exists(D(f + "/tmp/dst-half"))) << f;
  }
  EXPECT_EQ(Oracle(false), "");
}

// --mail=on: a folder without tmp/ on SRC still is one, so DST's tmp/ and
// what it holds are spared by --delete.
TEST_P(RemoteMaildirTest, MailOnSparesDstTmpOfAFolderWithoutOne) {
  BuildAccount();
  for (const std::string& f : kFolders) {
    ASSERT_EQ(::unlink(S(f + "/tmp/" + Msg(999)).c_str()), 0);
    ASSERT_EQ(::rmdir(S(f + "/tmp").c_str()), 0);
  }
  Proc p = Sync({"--mail=on"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  for (const std::string& f : kFolders)
    EXPECT_EQ(ReadFile(D(f + "/tmp/dst-half")), "DST delivery") << f;
  EXPECT_EQ(ExpectIndexesLast(p.out), 2) << p.out;
  p = Sync({"--mail=auto"});  // not folders under auto: DST's tmp/ goes
  ASSERT_EQ(p.code, 0) << p.Dump();
  for (const std::string& f : kFolders) EXPECT_FALSE(Exists(D(f + "/tmp"))) << f;
}

INSTANTIATE_TEST_SUITE_P(Remote, RemoteMaildirTest,
                         ::testing::Values(Direction{"push", true}, Direction{"pull", false}),
                         [](const ::testing::TestParamInfo<Direction>& i) {
                           return std::string(i.param.name);
                         });

}  // namespace
}  // namespace ferry::e2e
