// Rename and move detection on plain trees and Maildirs: new SRC files whose
// content DST already holds are renamed or copied within DST, never sent;
// look-alikes with other content are sent. rsync judges every result.
#include <string>
#include <vector>

#include "tests/engine/transfer/reuse_test_util.h"

namespace ferry::sync_test {
namespace {

class RenameTest : public SyncTest {
 protected:
  void SetUp() override {
    SyncTest::SetUp();
    if (IsSkipped()) return;
    if (!HaveRsync()) GTEST_SKIP() << "rsync is not installed (the oracle)";
  }
  SyncOptions Delete() const {
    SyncOptions o = Options();
    o.del = true;
    return o;
  }
  std::unique_ptr<SyncRun> FirstSync() {
    auto r = Sync();
    EXPECT_TRUE(r->clean()) << r->Dump();
    return r;
  }
};

TEST_P(RenameTest, RenamedDirectoryIsRenamedOnDstNotSent) {
  std::vector<std::string> names = {"a.txt", "b.bin", "sub/c.dat"};
  for (size_t k = 0; k < names.size(); ++k) {
    WriteFile(S("old/" + names[k]), Pattern(3000 + k * 1000, static_cast<unsigned>(k)));
    SetTimes(S("old/" + names[k]), 1600000000, static_cast<long>(k));
  }
  FirstSync();
  ino_t ino = LStat(D("old/b.bin")).st_ino;
  ASSERT_EQ(::rename(S("old").c_str(), S("new").c_str()), 0);

  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_FALSE(Exists(D("old")));
  EXPECT_EQ(LStat(D("new/b.bin")).st_ino, ino) << "the DST file itself was moved";
  for (const std::string& n : names)
    EXPECT_TRUE(run->events.HasItem("cf+++++++++", "new/" + n + " => old/" + n)) << run->Dump();
  EXPECT_TRUE(run->events.HasItem("*deleting  ", "old/")) << run->Dump();
  EXPECT_FALSE(run->events.HasItem("*deleting  ", "old/a.txt")) << run->Dump();
  EXPECT_EQ(run->stats.renamed_files.load(), 3u);
  EXPECT_EQ(run->stats.renamed_bytes.load(), 3000u + 4000u + 5000u);
  EXPECT_EQ(SentBytes(*run), 0u) << "nothing is sent for a rename";
  EXPECT_EQ(run->stats.transferred_files.load(), 0u);
  EXPECT_EQ(run->stats.deleted.load(), 2u);  // old/ and old/sub/
}

TEST_P(RenameTest, FilesMovedBetweenDirectoriesAndOneReplacesAnExistingName) {
  WriteFile(S("inbox/m1"), Pattern(2000, 1));
  WriteFile(S("inbox/m2"), Pattern(2100, 2));
  WriteFile(S("archive/m0"), Pattern(1900, 3));
  WriteFile(S("archive/target"), "old content of target");
  SetTimes(S("inbox/m2"), 1600000000, 2);
  SetTimes(S("archive/target"), 1500000000, 0);
  FirstSync();
  ASSERT_EQ(::rename(S("inbox/m1").c_str(), S("archive/m1").c_str()), 0);
  // m2 takes the name `target`, replacing what was there.
  ASSERT_EQ(::rename(S("inbox/m2").c_str(), S("archive/target").c_str()), 0);

  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_TRUE(run->events.HasItem("cf+++++++++", "archive/m1 => inbox/m1")) << run->Dump();
  EXPECT_TRUE(run->events.HasItem("cfcst......", "archive/target => inbox/m2")) << run->Dump();
  EXPECT_EQ(run->stats.renamed_files.load(), 2u);
  EXPECT_EQ(SentBytes(*run), 0u);
  EXPECT_EQ(Temporaries(dst_), std::vector<std::string>{});
}

TEST_P(RenameTest, WithoutDeleteTheOldPathStaysAndTheNewOneIsCopiedWithinDst) {
  WriteFile(S("a/file"), Pattern(50000, 4));
  FirstSync();
  ASSERT_EQ(::rename(S("a/file").c_str(), S("b").c_str()), 0);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_TRUE(SameContent(ReadFile(D("b")), ReadFile(S("b"))));
  EXPECT_TRUE(Exists(D("a/file"))) << "no --delete: the old path stays";
  EXPECT_NE(LStat(D("b")).st_ino, LStat(D("a/file")).st_ino) << "a copy, not a hard link";
  EXPECT_TRUE(run->events.HasItem("cf+++++++++", "b == a/file")) << run->Dump();
  EXPECT_EQ(run->stats.dst_copied_files.load(), 1u);
  EXPECT_EQ(run->stats.renamed_files.load(), 0u);
  EXPECT_EQ(SentBytes(*run), 0u);
  // What remains is only the extra old path, which --delete would remove.
  EXPECT_EQ(RsyncOracle(src_, dst_), "*deleting   a/file\n");
}

TEST_P(RenameTest, CopyOfAnUnchangedFileIsMadeFromDstsCopy) {
  WriteFile(S("orig"), Pattern(70000, 5));
  SetTimes(S("orig"), 1600000000, 5);
  FirstSync();
  ASSERT_EQ(Shell("cp -p '" + S("orig") + "' '" + S("dup") + "'"), 0);

  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_TRUE(run->events.HasItem("cf+++++++++", "dup == orig")) << run->Dump();
  EXPECT_EQ(SentBytes(*run), 0u);
}

TEST_P(RenameTest, SameSizeAndMtimeButOtherContentIsSentNotRenamed) {
  WriteFile(S("old"), Pattern(4096, 6));
  SetTimes(S("old"), 1600000000, 7);
  FirstSync();
  ASSERT_EQ(::unlink(S("old").c_str()), 0);
  std::string other = Pattern(4096, 7);
  WriteFile(S("new"), other);
  SetTimes(S("new"), 1600000000, 7);  // the same hint as DST's old file

  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(ReadFile(D("new")), other);
  EXPECT_FALSE(Exists(D("old")));
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_EQ(run->events.ItemFor("new"), ">f+++++++++") << run->Dump();
  EXPECT_TRUE(run->events.HasItem("*deleting  ", "old")) << run->Dump();
  EXPECT_EQ(run->stats.renamed_files.load(), 0u);
  EXPECT_EQ(SentBytes(*run), 4096u);
}

TEST_P(RenameTest, TwoNewCopiesOfOneDeletedFileUseItOnce) {
  WriteFile(S("old"), Pattern(8000, 8));
  SetTimes(S("old"), 1600000000, 8);
  FirstSync();
  ASSERT_EQ(::rename(S("old").c_str(), S("x1").c_str()), 0);
  ASSERT_EQ(Shell("cp -p '" + S("x1") + "' '" + S("x2") + "'"), 0);

  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_EQ(run->stats.renamed_files.load(), 1u);
  EXPECT_EQ(run->stats.transferred_files.load(), 1u);
  EXPECT_EQ(SentBytes(*run), 8000u);
}

TEST_P(RenameTest, SwappedNamesEndWithTheRightContent) {
  WriteFile(S("a"), Pattern(5000, 9));
  WriteFile(S("b"), Pattern(5000, 10));
  SetTimes(S("a"), 1600000000, 1);
  SetTimes(S("b"), 1600000000, 2);
  FirstSync();
  ASSERT_EQ(::rename(S("a").c_str(), S("t").c_str()), 0);
  ASSERT_EQ(::rename(S("b").c_str(), S("a").c_str()), 0);
  ASSERT_EQ(::rename(S("t").c_str(), S("b").c_str()), 0);

  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
}

TEST_P(RenameTest, HardLinkedMessagesStayHardLinkedAfterAMove) {
  // A server that deduplicates stores one delivery to two folders as links.
  WriteFile(S("a/cur/msg"), Pattern(6000, 11));
  HardLink(S("a/cur/msg"), S("b/cur/msg"));
  FirstSync();
  ASSERT_EQ(LStat(D("a/cur/msg")).st_ino, LStat(D("b/cur/msg")).st_ino);
  MakeDirs(S("c/cur"));
  ASSERT_EQ(::rename(S("a/cur/msg").c_str(), S("c/cur/msg").c_str()), 0);

  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_EQ(LStat(D("c/cur/msg")).st_ino, LStat(D("b/cur/msg")).st_ino);
  EXPECT_EQ(LStat(D("c/cur/msg")).st_nlink, 2u);
  EXPECT_EQ(SentBytes(*run), 0u);
}

TEST_P(RenameTest, LinkedDstFileIsCopiedNotRenamedWhenSrcSplitTheLink) {
  WriteFile(S("x"), Pattern(6000, 12));
  HardLink(S("x"), S("y"));
  FirstSync();
  // SRC now has two separate files with x's content: y stays, x moves to z.
  ASSERT_EQ(Shell("cp -p '" + S("x") + "' '" + S("z") + "' && rm '" + S("x") + "'"), 0);

  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_NE(LStat(D("z")).st_ino, LStat(D("y")).st_ino) << "z must not become a link of y";
  EXPECT_EQ(SentBytes(*run), 0u);
}

TEST_P(RenameTest, DryRunShowsTheRenameAndChangesNothing) {
  WriteFile(S("old"), Pattern(3000, 13));
  FirstSync();
  ASSERT_EQ(::rename(S("old").c_str(), S("new").c_str()), 0);
  SyncOptions o = Delete();
  o.dry_run = true;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_TRUE(run->events.HasItem("cf+++++++++", "new => old")) << run->Dump();
  EXPECT_FALSE(run->events.HasItem("*deleting  ", "old")) << run->Dump();
  EXPECT_TRUE(Exists(D("old")));
  EXPECT_FALSE(Exists(D("new")));
}

TEST_P(RenameTest, DetectionOffSendsTheFile) {
  WriteFile(S("old"), Pattern(3000, 14));
  FirstSync();
  ASSERT_EQ(::rename(S("old").c_str(), S("new").c_str()), 0);
  SyncOptions o = Delete();
  o.detect_renames = false;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(run->events.ItemFor("new"), ">f+++++++++") << run->Dump();
  EXPECT_EQ(SentBytes(*run), 3000u);
}

FERRY_INSTANTIATE_BACKENDS(RenameTest);

}  // namespace
}  // namespace ferry::sync_test
