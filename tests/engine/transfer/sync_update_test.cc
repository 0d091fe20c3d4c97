// RunLocalSync on a DST that already holds an older copy: change detection
// (size+mtime, --checksum, metadata-only), --delete and --max-delete,
// filters, dry runs, hostile symlinks planted in DST, stale temporaries.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/tree/filter.h"
#include "tests/engine/transfer/sync_test_util.h"

namespace ferry::sync_test {
namespace {

using UpdateTest = SyncTest;

std::shared_ptr<const FilterList> Rules(
    std::initializer_list<std::pair<RuleType, const char*>> rules) {
  auto f = std::make_shared<FilterList>();
  for (const auto& [t, text] : rules) {
    Status s = f->AddRule(t, text);
    EXPECT_TRUE(s.ok()) << text << ": " << s.ToString();
  }
  return f;
}

// ---- change detection -------------------------------------------------------

TEST_P(UpdateTest, SizeOrMtimeChangeIsCopiedQuickCheckSkipsTheRest) {
  WriteFile(S("grown"), "short");
  WriteFile(S("touched"), "aaaa");
  WriteFile(S("sneaky"), "bbbb");
  WriteFile(S("same"), "same");
  WriteFile(S("large"), Pattern(400 * 1024, 1));
  for (const char* n : {"grown", "touched", "sneaky", "same", "large"})
    SetTimes(S(n), 1500000000, 100);
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();

  WriteFile(S("grown"), "much longer now");
  SetTimes(S("grown"), 1500000000, 100);  // same mtime, other size
  WriteFile(S("touched"), "AAAA");
  SetTimes(S("touched"), 1500000000, 200);  // same size, other mtime
  WriteFile(S("sneaky"), "BBBB");
  SetTimes(S("sneaky"), 1500000000, 100);  // same size and mtime
  std::string large = Pattern(400 * 1024, 2);
  WriteFile(S("large"), large);
  SetTimes(S("large"), 1600000000, 0);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(ReadFile(D("grown")), "much longer now");
  EXPECT_EQ(ReadFile(D("touched")), "AAAA");
  EXPECT_TRUE(SameContent(ReadFile(D("large")), large));
  // rsync's quick check: same size and mtime means unchanged.
  EXPECT_EQ(ReadFile(D("sneaky")), "bbbb");
  EXPECT_EQ(run->events.ItemFor("grown"), ">f.s.......") << run->Dump();
  EXPECT_EQ(run->events.ItemFor("touched"), ">f..t......") << run->Dump();
  EXPECT_EQ(run->events.ItemFor("large"), ">f..t......") << run->Dump();
  EXPECT_EQ(run->events.ItemFor("sneaky"), "") << run->Dump();
  EXPECT_EQ(run->events.ItemFor("same"), "") << run->Dump();
  EXPECT_EQ(run->stats.transferred_files.load(), 3u);
}

TEST_P(UpdateTest, ChecksumCatchesSameSizeSameMtimeChange) {
  WriteFile(S("sneaky"), "bbbb");
  WriteFile(S("same"), "same");
  WriteFile(S("large"), Pattern(500 * 1024, 3));
  for (const char* n : {"sneaky", "same", "large"}) SetTimes(S(n), 1500000000, 100);
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  WriteFile(S("sneaky"), "BBBB");
  std::string large = Pattern(500 * 1024, 4);
  WriteFile(S("large"), large);
  for (const char* n : {"sneaky", "large"}) SetTimes(S(n), 1500000000, 100);

  SyncOptions o = Options();
  o.checksum = true;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(ReadFile(D("sneaky")), "BBBB");
  EXPECT_TRUE(SameContent(ReadFile(D("large")), large));
  EXPECT_EQ(run->events.ItemFor("sneaky"), ">fc........") << run->Dump();
  EXPECT_EQ(run->events.ItemFor("same"), "") << run->Dump();
  EXPECT_EQ(run->stats.transferred_files.load(), 2u);
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

// --no-whole-file: changed files are rebuilt from DST's old copy plus the
// differences, and must come out byte for byte equal to SRC.
TEST_P(UpdateTest, NoWholeFileUpdatesThroughDeltas) {
  std::string big = Pattern(3 << 20, 1), small = Pattern(100 * 1024, 2);
  WriteFile(S("big"), big);
  WriteFile(S("small"), small);
  WriteFile(S("emptied"), "will be empty");
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  big.replace(1 << 20, 100, std::string(100, '#'));
  big.insert(2 << 20, "inserted bytes shift the rest");
  big.append("tail");
  small.replace(50000, 10, "0123456789");
  WriteFile(S("big"), big);
  WriteFile(S("small"), small);
  WriteFile(S("emptied"), "");
  SetTimes(S("big"), 1600000000, 1);

  SyncOptions o = Options();
  o.whole_file = false;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_TRUE(SameContent(ReadFile(D("big")), big));
  EXPECT_TRUE(SameContent(ReadFile(D("small")), small));
  EXPECT_EQ(ReadFile(D("emptied")), "");
  EXPECT_GT(run->stats.matched_bytes.load(), uint64_t{2} << 20) << "no data was reused";
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(Join(Temporaries(dst_)), "");
}

TEST_P(UpdateTest, MetadataOnlyChangeUpdatesInPlace) {
  WriteFile(S("file"), "data", 0644);
  WriteFile(S("large"), Pattern(300 * 1024, 5), 0644);
  WriteFile(S("dir/x"), "x");
  Symlink("file", S("link"));
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  ino_t file_ino = LStat(D("file")).st_ino, large_ino = LStat(D("large")).st_ino;

  Chmod(S("file"), 0600);
  Chmod(S("large"), 0640);
  Chmod(S("dir"), 0700);
  struct stat ds = LStat(S("dir"));
  SetTimes(S("link"), 1400000000, 5);
  SetTimes(S("dir"), ds.st_mtim.tv_sec, ds.st_mtim.tv_nsec);

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(LStat(D("file")).st_mode & 07777, 0600u);
  EXPECT_EQ(LStat(D("large")).st_mode & 07777, 0640u);
  EXPECT_EQ(LStat(D("dir")).st_mode & 07777, 0700u);
  EXPECT_EQ(LStat(D("file")).st_ino, file_ino) << "data was rewritten";
  EXPECT_EQ(LStat(D("large")).st_ino, large_ino) << "data was rewritten";
  EXPECT_EQ(run->events.ItemFor("file"), ".f...p.....") << run->Dump();
  EXPECT_EQ(run->events.ItemFor("dir/"), ".d...p.....") << run->Dump();
  EXPECT_TRUE(run->events.ItemFor("link -> file") == ".L..t......" ||
              run->events.ItemFor("link") == ".L..t......")
      << run->Dump();
  EXPECT_EQ(run->stats.transferred_files.load(), 0u);
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(UpdateTest, SecondRunChangesNothing) {
  WriteFile(S("a/file"), "f");
  WriteFile(S("a/large"), Pattern(600 * 1024, 6));
  Symlink("file", S("a/link"));
  HardLink(S("a/file"), S("b/hard"));
  MakeDirs(S("empty"));
  ASSERT_EQ(::mkfifo(S("fifo").c_str(), 0600), 0);
  (void)SetXattr(S("a/file"), "user.x", "1");
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  auto before = Listing(dst_);
  ino_t ino = LStat(D("a/large")).st_ino;

  SyncOptions o = Options();
  o.del = true;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_TRUE(run->events.items.empty()) << run->Dump();
  EXPECT_EQ(run->stats.transferred_files.load(), 0u);
  EXPECT_EQ(run->stats.created.load(), 0u);
  EXPECT_EQ(Listing(dst_), before);
  EXPECT_EQ(LStat(D("a/large")).st_ino, ino);
}

TEST_P(UpdateTest, EntryTypeChangesAreReplaced) {
  WriteFile(S("was_file"), "f");
  MakeDirs(S("was_dir/sub"));
  WriteFile(S("was_dir/sub/x"), "x");
  Symlink("t", S("was_link"));
  WriteFile(S("was_empty_dir/y"), "y");
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();

  ASSERT_EQ(::unlink(S("was_file").c_str()), 0);
  MakeDirs(S("was_file"));
  WriteFile(S("was_file/now_inside"), "inside");
  RemoveTree(S("was_dir"));
  WriteFile(S("was_dir"), "now a file");
  ASSERT_EQ(::unlink(S("was_link").c_str()), 0);
  WriteFile(S("was_link"), "now a file too");
  RemoveTree(S("was_empty_dir"));
  Symlink("somewhere", S("was_empty_dir"));

  SyncOptions o = Options();
  o.del = true;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(UpdateTest, SymlinkTargetChangeOfTheSameLengthIsNoticed) {
  Symlink("aaa", S("link"));
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  struct stat st = LStat(S("link"));
  ASSERT_EQ(::unlink(S("link").c_str()), 0);
  Symlink("bbb", S("link"));
  SetTimes(S("link"), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_TRUE(run->events.HasItem("cLc........", "link -> bbb")) << run->Dump();
}

// rsync's -i names a symlink as "link -> target" on every line, whether it
// was created or only its metadata changed.
TEST_P(UpdateTest, SymlinkItemsShowTheirTarget) {
  Symlink("file", S("link"));
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  EXPECT_TRUE(first->events.HasItem("cL+++++++++", "link -> file")) << first->Dump();
  SetTimes(S("link"), 1400000000, 5);
  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_TRUE(run->events.HasItem(".L..t......", "link -> file")) << run->Dump();
}

// ---- deletion ---------------------------------------------------------------

TEST_P(UpdateTest, DeleteRemovesExtrasIncludingNestedDirectories) {
  WriteFile(S("keep"), "k");
  WriteFile(S("dir/keep"), "k");
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();
  WriteFile(D("extra"), "e");
  WriteFile(D("dir/extra"), "e");
  WriteFile(D("gone/a/b/c/deep"), "d");
  WriteFile(D("gone/a/top"), "t");
  Symlink("keep", D("extra_link"));

  // Without --delete the extras stay.
  auto keep = Sync();
  ASSERT_TRUE(keep->clean()) << keep->Dump();
  EXPECT_TRUE(Exists(D("extra")));
  EXPECT_TRUE(Exists(D("gone/a/b/c/deep")));

  SyncOptions o = Options();
  o.del = true;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  for (const char* p : {"extra", "dir/extra", "gone/", "gone/a/", "gone/a/b/c/deep",
                        "gone/a/top", "extra_link"})
    EXPECT_TRUE(run->events.HasItem("*deleting  ", p)) << p << "\n" << run->Dump();
  EXPECT_EQ(run->stats.deleted.load(), 9u);  // 5 files/links + gone, a, b, c
}

TEST_P(UpdateTest, MaxDeleteStopsAfterN) {
  WriteFile(S("keep"), "k");
  MakeDirs(dst_);
  for (int i = 0; i < 5; ++i) WriteFile(D("extra" + std::to_string(i)), "e");
  WriteFile(S("new"), "n");

  SyncOptions o = Options();
  o.del = true;
  o.max_delete = 2;
  auto run = Sync(o);
  ASSERT_TRUE(run->ok()) << run->Dump();
  EXPECT_TRUE(run->outcome.max_delete_hit) << run->Dump();
  int left = 0;
  for (int i = 0; i < 5; ++i) left += Exists(D("extra" + std::to_string(i)));
  EXPECT_EQ(left, 3);
  EXPECT_EQ(run->stats.deleted.load(), 2u);
  EXPECT_EQ(run->stats.delete_skipped.load(), 3u);
  // Everything else still happened.
  EXPECT_EQ(ReadFile(D("new")), "n");
  EXPECT_EQ(ReadFile(D("keep")), "k");

  // --max-delete=0 deletes nothing and still says so.
  o.max_delete = 0;
  auto zero = Sync(o);
  ASSERT_TRUE(zero->ok()) << zero->Dump();
  EXPECT_TRUE(zero->outcome.max_delete_hit);
  left = 0;
  for (int i = 0; i < 5; ++i) left += Exists(D("extra" + std::to_string(i)));
  EXPECT_EQ(left, 3);

  // Under the limit: not hit.
  o.max_delete = 10;
  auto under = Sync(o);
  ASSERT_TRUE(under->clean()) << under->Dump();
  EXPECT_FALSE(under->outcome.max_delete_hit);
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(UpdateTest, ExcludedDestinationFilesAreNotDeleted) {
  WriteFile(S("keep.txt"), "k");
  WriteFile(S("new.log"), "excluded in SRC");
  WriteFile(S("sub/keep.txt"), "k");
  MakeDirs(dst_);
  WriteFile(D("old.log"), "excluded in DST");
  WriteFile(D("sub/deep.log"), "excluded in DST");
  WriteFile(D("cache/blob"), "excluded dir");
  WriteFile(D("extra.txt"), "not excluded");
  WriteFile(D("olddir/a.log"), "protected, so olddir stays");
  WriteFile(D("olddir/b.txt"), "goes");

  SyncOptions o = Options();
  o.del = true;
  o.filter = Rules({{RuleType::kExclude, "*.log"}, {RuleType::kExclude, "cache/"}});
  auto run = Sync(o);
  ASSERT_TRUE(run->ok()) << run->Dump();
  EXPECT_FALSE(Exists(D("new.log"))) << "an excluded file was copied";
  EXPECT_EQ(ReadFile(D("old.log")), "excluded in DST");
  EXPECT_EQ(ReadFile(D("sub/deep.log")), "excluded in DST");
  EXPECT_EQ(ReadFile(D("cache/blob")), "excluded dir");
  EXPECT_EQ(ReadFile(D("olddir/a.log")), "protected, so olddir stays");
  EXPECT_FALSE(Exists(D("extra.txt")));
  EXPECT_FALSE(Exists(D("olddir/b.txt")));
  EXPECT_EQ(ReadFile(D("sub/keep.txt")), "k");
}

TEST_P(UpdateTest, FiltersFirstMatchWinsAndDirectoryOnlyPatterns) {
  WriteFile(S("main.c"), "c");
  WriteFile(S("main.h"), "h");
  WriteFile(S("lib/util.c"), "c");
  WriteFile(S("lib/util.o"), "o");
  WriteFile(S("build/out.c"), "in a build dir");
  WriteFile(S("lib/build"), "a file named build");
  WriteFile(S("top.txt"), "anchored");
  WriteFile(S("lib/top.txt"), "not anchored");

  // Include dirs and .c files, exclude everything else: rsync's idiom.
  SyncOptions o = Options();
  o.filter = Rules({{RuleType::kInclude, "*/"},
                    {RuleType::kInclude, "*.c"},
                    {RuleType::kExclude, "*"}});
  std::string d1 = tmp_ / "only_c";
  auto r1 = DoSync(src_ + "/", d1 + "/", o);
  ASSERT_TRUE(r1->clean()) << r1->Dump();
  EXPECT_TRUE(Exists(d1 + "/main.c"));
  EXPECT_TRUE(Exists(d1 + "/lib/util.c"));
  EXPECT_TRUE(Exists(d1 + "/build/out.c"));
  EXPECT_FALSE(Exists(d1 + "/main.h"));
  EXPECT_FALSE(Exists(d1 + "/lib/util.o"));
  EXPECT_FALSE(Exists(d1 + "/lib/build"));

  // Order matters: an earlier exclude beats a later include.
  o.filter = Rules({{RuleType::kExclude, "*.c"}, {RuleType::kInclude, "*.c"}});
  std::string d2 = tmp_ / "no_c";
  auto r2 = DoSync(src_ + "/", d2 + "/", o);
  ASSERT_TRUE(r2->clean()) << r2->Dump();
  EXPECT_FALSE(Exists(d2 + "/main.c"));
  EXPECT_FALSE(Exists(d2 + "/lib/util.c"));
  EXPECT_TRUE(Exists(d2 + "/main.h"));

  // "build/" matches directories only; "/top.txt" only at the root.
  o.filter = Rules({{RuleType::kExclude, "build/"}, {RuleType::kExclude, "/top.txt"}});
  std::string d3 = tmp_ / "no_build";
  auto r3 = DoSync(src_ + "/", d3 + "/", o);
  ASSERT_TRUE(r3->clean()) << r3->Dump();
  EXPECT_FALSE(Exists(d3 + "/build"));
  EXPECT_EQ(ReadFile(d3 + "/lib/build"), "a file named build");
  EXPECT_FALSE(Exists(d3 + "/top.txt"));
  EXPECT_EQ(ReadFile(d3 + "/lib/top.txt"), "not anchored");
}

// ---- dry run ----------------------------------------------------------------

// SRC and an older DST that differ in every way a sync can fix.
void MakeDivergedTrees(const SyncOptions& o, const std::string& src,
                       const std::string& dst) {
  WriteFile(src + "/same", "same");
  WriteFile(src + "/changed", "old");
  WriteFile(src + "/chmodded", "c", 0644);
  WriteFile(src + "/dir/inner", "i");
  Symlink("same", src + "/link");
  auto first = DoSync(src + "/", dst + "/", o);
  ASSERT_TRUE(first->clean()) << first->Dump();
  WriteFile(src + "/changed", "new content");
  Chmod(src + "/chmodded", 0600);
  WriteFile(src + "/new", "n");
  WriteFile(src + "/newdir/a/b", "deep");
  MakeDirs(src + "/newempty");
  Symlink("dir", src + "/newlink");
  ASSERT_EQ(::unlink((src + "/link").c_str()), 0);
  Symlink("other", src + "/link");
  HardLink(src + "/same", src + "/dir/hard");
  ASSERT_EQ(::mkfifo((src + "/fifo").c_str(), 0600), 0);
  WriteFile(dst + "/extra", "e");
  WriteFile(dst + "/extradir/x", "x");
  WriteFile(src + "/large", Pattern(400 * 1024, 9));
}

std::vector<std::pair<std::string, std::string>> Sorted(
    std::vector<std::pair<std::string, std::string>> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_P(UpdateTest, DryRunChangesNothingAndReportsTheSameItems) {
  MakeDivergedTrees(Options(), src_, dst_);
  auto before = Listing(dst_);
  SyncOptions o = Options();
  o.del = true;
  o.dry_run = true;
  auto dry = Sync(o);
  ASSERT_TRUE(dry->clean()) << dry->Dump();
  EXPECT_EQ(Listing(dst_), before) << "the dry run changed DST";

  o.dry_run = false;
  auto real = Sync(o);
  ASSERT_TRUE(real->clean()) << real->Dump();
  EXPECT_EQ(Sorted(dry->events.items), Sorted(real->events.items))
      << "dry run:\n" << dry->Dump() << "real run:\n" << real->Dump();
  EXPECT_EQ(dry->stats.transferred_files.load(), real->stats.transferred_files.load());
  EXPECT_EQ(dry->stats.deleted.load(), real->stats.deleted.load());
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(UpdateTest, DryRunIntoAMissingDestination) {
  WriteFile(S("file"), "f");
  WriteFile(S("dir/inner"), "i");
  Symlink("file", S("link"));
  SyncOptions o = Options();
  o.dry_run = true;
  auto dry = Sync(o);
  ASSERT_TRUE(dry->clean()) << dry->Dump();
  EXPECT_FALSE(Exists(dst_)) << "the dry run created DST";
  EXPECT_TRUE(dry->events.HasItem(">f+++++++++", "file")) << dry->Dump();
  EXPECT_TRUE(dry->events.HasItem(">f+++++++++", "dir/inner")) << dry->Dump();

  o.dry_run = false;
  auto real = Sync(o);
  ASSERT_TRUE(real->clean()) << real->Dump();
  EXPECT_EQ(Sorted(dry->events.items), Sorted(real->events.items))
      << "dry run:\n" << dry->Dump() << "real run:\n" << real->Dump();
}

// ---- hostile DST and leftovers ------------------------------------------------

TEST_P(UpdateTest, SymlinkInPlaceOfADirectoryIsNeverWrittenThrough) {
  std::string outside = tmp_ / "outside";
  WriteFile(outside + "/keep", "outside content", 0600);
  auto outside_before = Listing(outside);
  WriteFile(S("evil/a"), "a");
  WriteFile(S("evil/sub/b"), Pattern(300 * 1024, 1));
  Symlink("x", S("evil/link"));
  WriteFile(S("rel/c"), "c");
  MakeDirs(dst_);
  Symlink(outside, D("evil"));
  Symlink("../outside", D("rel"));

  auto run = Sync();
  ASSERT_TRUE(run->ok()) << run->Dump();
  EXPECT_EQ(Listing(outside), outside_before) << "wrote through a DST symlink";
  ASSERT_TRUE(S_ISDIR(LStat(D("evil")).st_mode));
  ASSERT_TRUE(S_ISDIR(LStat(D("rel")).st_mode));
  EXPECT_FALSE(run->outcome.partial) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(UpdateTest, SymlinkInPlaceOfAFileIsReplacedNotFollowed) {
  std::string outside = tmp_ / "outside";
  WriteFile(outside + "/target", "outside content", 0600);
  WriteFile(outside + "/big_target", "outside content", 0600);
  auto outside_before = Listing(outside);
  WriteFile(S("file.txt"), "mine", 0644);
  WriteFile(S("big.bin"), Pattern(400 * 1024, 2), 0600);
  MakeDirs(dst_);
  Symlink(outside + "/target", D("file.txt"));
  Symlink(outside + "/big_target", D("big.bin"));

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(Listing(outside), outside_before) << "wrote through a DST symlink";
  EXPECT_TRUE(S_ISREG(LStat(D("file.txt")).st_mode));
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_P(UpdateTest, StaleTemporariesOfAnInterruptedRunAreRemoved) {
  WriteFile(S("a.txt"), "a");
  WriteFile(S("sub/b.txt"), "b");
  MakeDirs(dst_);
  WriteFile(D(".~ferry.a.txt.deadbeef"), "half written");
  WriteFile(D("sub/.~ferry.b.txt.0123abcd"), "half");
  WriteFile(D("sub/.~ferry.gone.txt.89abcdef"), "of a file SRC no longer has");
  WriteFile(D(".~ferry.notes"), "a user's file that only looks similar");

  auto run = Sync();
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(Join(Temporaries(dst_)), ".~ferry.notes\n");
  EXPECT_EQ(ReadFile(D("a.txt")), "a");
  EXPECT_EQ(ReadFile(D("sub/b.txt")), "b");
  // The directory mtimes are still SRC's after the cleanup.
  EXPECT_EQ(Describe(D("sub")), Describe(S("sub")));
}

FERRY_INSTANTIATE_BACKENDS(UpdateTest);

}  // namespace
}  // namespace ferry::sync_test
