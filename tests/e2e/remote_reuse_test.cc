// Rename/move and append detection over the wire (PROTOCOL.md section 4a),
// push and pull over the remote-shell stand-in: a file whose content DST
// already holds is renamed or copied within DST instead of sent, a file that
// only grew gets only its tail. Each case is judged by the rsync oracle
// (`rsync -aHAXc --dry-run -i --delete` prints nothing) and by --stats: the
// renamed data is not on the wire. The false cases (same size and mtime,
// other content; a prefix that differs in one byte) must be sent.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

#ifndef FERRY_STANDIN
#error "FERRY_STANDIN must name tests/remote_shell_standin.sh"
#endif

namespace ferry::e2e {
namespace {

constexpr size_t kFile = 64 * 1024;

struct Dir {
  bool push;
  const char* name;
};

class RemoteReuseTest : public ::testing::TestWithParam<Dir> {
 protected:
  void SetUp() override {
    if (ferry::testing::Shell("command -v rsync >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "rsync is not installed";
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    MakeDirs(src_);
  }

  // One sync in the test's direction, with --stats and -i.
  Proc Sync(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {Ferry(), "sync", "--no-progress", "-a", "--delete",
                                     "--stats", "-i", "-e", FERRY_STANDIN, "--remote-ferry",
                                     Ferry()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (GetParam().push) {
      argv.push_back(src_ + "/");
      argv.push_back("testhost:" + dst_ + "/");
    } else {
      argv.push_back("testhost:" + src_ + "/");
      argv.push_back(dst_ + "/");
    }
    return RunProcess(argv, tmp_.path());
  }

  std::string Oracle() {
    std::string out;
    ferry::testing::Shell("rsync -aHAXc --dry-run --itemize-changes --delete "
                          "--modify-window=-1 '" + src_ + "/' '" + dst_ + "/' 2>&1", &out);
    return out;
  }

  static int64_t Wire(const Proc& p) {
    return StatNumber(p.out, "Total bytes sent") + StatNumber(p.out, "Total bytes received");
  }

  // -i lines are printed by the side that owns DST: the local one in a pull.
  void ExpectItem(const Proc& p, const std::string& line) {
    if (!GetParam().push) {
      EXPECT_TRUE(HasLine(p.out, line)) << line << "\n" << p.Dump();
    }
  }

  std::string S(const std::string& rel) const { return src_ + "/" + rel; }
  std::string D(const std::string& rel) const { return dst_ + "/" + rel; }
  void Mv(const std::string& from, const std::string& to) {
    MakeDirs(S(to).substr(0, S(to).rfind('/')));
    ASSERT_EQ(std::rename(S(from).c_str(), S(to).c_str()), 0) << from;
  }

  TempDir tmp_;
  std::string src_, dst_;
};

TEST_P(RemoteReuseTest, ARenamedDirectoryIsRenamedNotSent) {
  for (int i = 0; i < 6; ++i) WriteFile(S("old/f" + std::to_string(i)), Pattern(kFile, 10 + i));
  WriteFile(S("keep"), "k");
  Proc first = Sync();
  ASSERT_EQ(first.code, 0) << first.Dump();
  Mv("old", "new");
  Proc p = Sync();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_EQ(StatNumber(p.out, "Number of files renamed within DST"), 6) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Number of regular files transferred"), 0) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Number of created files"), 7) << p.Dump();  // new/ + 6
  EXPECT_EQ(StatNumber(p.out, "Number of deleted files"), 1) << p.Dump();  // old/
  EXPECT_EQ(StatNumber(p.out, "Data not sent (renamed or copied within DST)"), 6 * kFile);
  EXPECT_LT(Wire(p), 4000) << p.Dump();
  ExpectItem(p, "cf+++++++++ new/f3 => old/f3");
}

TEST_P(RemoteReuseTest, FilesMovedBetweenDirectoriesAreRenamed) {
  for (int i = 0; i < 4; ++i) WriteFile(S("a/m" + std::to_string(i)), Pattern(kFile, 30 + i));
  WriteFile(S("b/stay"), Pattern(1000, 1));
  ASSERT_EQ(Sync().code, 0);
  Mv("a/m1", "b/m1");
  Mv("a/m2", "c/d/m2");
  Proc p = Sync();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_EQ(StatNumber(p.out, "Number of files renamed within DST"), 2) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Number of regular files transferred"), 0) << p.Dump();
  EXPECT_LT(Wire(p), 4000) << p.Dump();
  ExpectItem(p, "cf+++++++++ c/d/m2 => a/m2");
}

TEST_P(RemoteReuseTest, MaildirFlagChangesAreRenames) {
  const std::string x = "1700000001.M1P1.host,S=65536";
  const std::string y = "1700000002.M2P1.host,S=65536";
  const std::string z = "1700000003.M3P1.host,S=65536";
  for (const char* d : {"Maildir/cur", "Maildir/new", "Maildir/tmp", "Maildir/.Archive/cur",
                        "Maildir/.Archive/new", "Maildir/.Archive/tmp"})
    MakeDirs(S(d));
  WriteFile(S("Maildir/new/" + x), Pattern(kFile, 1));
  WriteFile(S("Maildir/cur/" + y + ":2,S"), Pattern(kFile, 2));
  WriteFile(S("Maildir/cur/" + z + ":2,"), Pattern(kFile, 3));
  ASSERT_EQ(Sync().code, 0);
  Mv("Maildir/new/" + x, "Maildir/cur/" + x + ":2,S");             // read
  Mv("Maildir/cur/" + y + ":2,S", "Maildir/cur/" + y + ":2,FS");   // flagged
  SetMtime(S("Maildir/cur/" + y + ":2,FS"), 1710000000, 5);        // base name is the hint
  Mv("Maildir/cur/" + z + ":2,", "Maildir/.Archive/cur/" + z + ":2,");  // moved
  Proc p = Sync();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_EQ(StatNumber(p.out, "Number of files renamed within DST"), 3) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Number of regular files transferred"), 0) << p.Dump();
  EXPECT_LT(Wire(p), 4000) << p.Dump();
  ExpectItem(p, "cf+++++++++ Maildir/cur/" + x + ":2,S => Maildir/new/" + x);
  ExpectItem(p, "cf+++++++++ Maildir/cur/" + y + ":2,FS => Maildir/cur/" + y + ":2,S");
}

// The old path stays (SRC still has it, or it is hard-linked elsewhere):
// the data is copied within DST, never renamed away.
TEST_P(RemoteReuseTest, AnOldPathThatStaysIsCopiedWithinDst) {
  WriteFile(S("a/orig"), Pattern(kFile, 7));
  WriteFile(S("inbox/m"), Pattern(kFile, 8));
  MakeDirs(S("zbackup"));  // listed after archive/: archive/m leads the pair
  ASSERT_EQ(::link(S("inbox/m").c_str(), S("zbackup/m").c_str()), 0);
  ASSERT_EQ(Sync({"-H"}).code, 0);
  ASSERT_EQ(LStat(D("inbox/m")).st_nlink, 2u);
  // A copy of an unchanged file, and a move of one link of a pair.
  ASSERT_EQ(ferry::testing::Shell("cp -p '" + S("a/orig") + "' '" + S("a/copy") + "'"), 0);
  Mv("inbox/m", "archive/m");
  Proc p = Sync({"-H"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_EQ(StatNumber(p.out, "Number of files copied within DST"), 2) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Number of files renamed within DST"), 0) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Number of regular files transferred"), 0) << p.Dump();
  EXPECT_LT(Wire(p), 4000) << p.Dump();
  ExpectItem(p, "cf+++++++++ a/copy == a/orig");
  struct stat am = LStat(D("archive/m")), bm = LStat(D("zbackup/m"));
  EXPECT_EQ(am.st_ino, bm.st_ino) << "the hard link is kept";
}

// A DST file the filter protects from --delete may give its content to a
// new file, but stays where it is: copied, never renamed away.
TEST_P(RemoteReuseTest, AFileTheFilterProtectsIsCopiedNotMoved) {
  WriteFile(S("keep"), "k");
  ASSERT_EQ(Sync().code, 0);
  WriteFile(D("local.log"), Pattern(kFile, 21));  // DST's own, excluded below
  ASSERT_EQ(ferry::testing::Shell("cp -p '" + D("local.log") + "' '" + S("new.log") + "'"), 0);
  Proc p = Sync({"--exclude", "local.log"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(ReadFile(D("local.log")), Pattern(kFile, 21)) << p.Dump();
  EXPECT_EQ(ReadFile(D("new.log")), Pattern(kFile, 21));
  EXPECT_EQ(StatNumber(p.out, "Number of files renamed within DST"), 0) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Number of files copied within DST"), 1) << p.Dump();
}

// Same size and mtime is only a hint: other content is sent.
TEST_P(RemoteReuseTest, SameSizeAndMtimeButOtherContentIsSent) {
  WriteFile(S("a/f"), Pattern(kFile, 50));
  SetMtime(S("a/f"), 1700000000, 0);
  ASSERT_EQ(Sync().code, 0);
  ASSERT_EQ(::unlink(S("a/f").c_str()), 0);
  WriteFile(S("b/f"), Pattern(kFile, 51));
  SetMtime(S("b/f"), 1700000000, 0);
  Proc p = Sync();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_EQ(StatNumber(p.out, "Number of files renamed within DST"), 0) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Number of regular files transferred"), 1) << p.Dump();
  // b/ and b/f, each once (a sent new file was counted twice).
  EXPECT_EQ(StatNumber(p.out, "Number of created files"), 2) << p.Dump();
  EXPECT_GT(Wire(p), static_cast<int64_t>(kFile));
}

TEST_P(RemoteReuseTest, AnAppendedFileSendsOnlyItsTail) {
  std::string mbox = Pattern(1 << 20, 60);
  WriteFile(S("mbox"), mbox);
  ASSERT_EQ(Sync().code, 0);
  mbox += Pattern(5000, 61);
  WriteFile(S("mbox"), mbox);
  Proc p = Sync();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_EQ(StatNumber(p.out, "Number of appended files"), 1) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Data not sent (appended files' prefixes)"), 1 << 20) << p.Dump();
  // The tail and a few messages; a signature of 1 MiB alone would be more.
  EXPECT_LT(Wire(p), 5000 + 1500) << p.Dump();
}

TEST_P(RemoteReuseTest, APrefixThatDiffersInOneByteIsNotAnAppend) {
  std::string mbox = Pattern(1 << 20, 70);
  WriteFile(S("mbox"), mbox);
  ASSERT_EQ(Sync().code, 0);
  mbox[1000] = static_cast<char>(mbox[1000] ^ 1);
  mbox += Pattern(5000, 71);
  WriteFile(S("mbox"), mbox);
  Proc p = Sync();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_EQ(StatNumber(p.out, "Number of appended files"), 0) << p.Dump();
  EXPECT_EQ(StatNumber(p.out, "Number of regular files transferred"), 1) << p.Dump();
  // Still a delta: far less than the file.
  EXPECT_LT(Wire(p), 200 * 1000) << p.Dump();
}

INSTANTIATE_TEST_SUITE_P(Direction, RemoteReuseTest,
                         ::testing::Values(Dir{true, "push"}, Dir{false, "pull"}),
                         [](const ::testing::TestParamInfo<Dir>& i) { return i.param.name; });

}  // namespace
}  // namespace ferry::e2e
