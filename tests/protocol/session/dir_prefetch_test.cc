// DirPrefetch: listings handed over are the directory's (names, lstat,
// kept xattrs, and which directory it was), a path never requested or not started is listed by the
// caller, an error is the path's, a directory the walk passed without
// entering is dropped rather than held, and with `enter` a listing queues
// the subdirectories enter() accepts.
#include "protocol/session/dir_prefetch.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include "tests/testing/temp_tree.h"

namespace ferry::protocol {
namespace {

using ferry::testing::MakeDirs;
using ferry::testing::TempDir;
using ferry::testing::WriteFile;

class DirPrefetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeDirs(tmp_.path() + "/a/b");
    MakeDirs(tmp_.path() + "/a-c");
    MakeDirs(tmp_.path() + "/d");
    WriteFile(tmp_.path() + "/a/one", "1");
    WriteFile(tmp_.path() + "/a/two", "22");
    WriteFile(tmp_.path() + "/a/b/three", "333");
    root_ = ::open(tmp_.path().c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(root_, 0);
    policy_.xattrs = true;
    policy_.acls = false;
  }
  void TearDown() override { ::close(root_); }

  TempDir tmp_;
  int root_ = -1;
  MetaPolicy policy_;
};

TEST_F(DirPrefetchTest, HandsOverTheListingWithXattrs) {
  const bool have_xattr =
      ::setxattr((tmp_.path() + "/a/one").c_str(), "user.k", "v", 1, 0) == 0;
  DirPrefetch p(root_, policy_, /*xattrs=*/true, 2, 16);
  p.Request("a");
  auto l = p.Take("a");
  ASSERT_TRUE(l.has_value());
  ASSERT_TRUE(l->status.ok()) << l->status.message();
  ASSERT_EQ(l->entries.size(), 3u);
  EXPECT_EQ(l->entries[0].name, "b");
  EXPECT_EQ(l->entries[1].name, "one");
  EXPECT_EQ(l->entries[1].size, 1u);
  EXPECT_EQ(l->entries[2].name, "two");
  struct stat st {};
  ASSERT_EQ(::stat((tmp_.path() + "/a").c_str(), &st), 0);
  EXPECT_TRUE(DirPrefetch::Same(*l, st));
  ASSERT_EQ(::stat((tmp_.path() + "/d").c_str(), &st), 0);
  EXPECT_FALSE(DirPrefetch::Same(*l, st));
  ASSERT_EQ(l->read_ok.size(), 3u);
  EXPECT_TRUE(l->read_ok[1]);
  if (have_xattr) {
    ASSERT_EQ(l->xattrs[1].size(), 1u);
    EXPECT_EQ(l->xattrs[1][0].name, "user.k");
  }
  EXPECT_TRUE(l->xattrs[2].empty());
  // Taken once: a second Take lists nothing.
  EXPECT_FALSE(p.Take("a").has_value());
}

TEST_F(DirPrefetchTest, NotRequestedIsTheCallersJob) {
  DirPrefetch p(root_, policy_, false, 1, 16);
  EXPECT_FALSE(p.Take("a").has_value());
}

TEST_F(DirPrefetchTest, AMissingDirectoryIsItsError) {
  DirPrefetch p(root_, policy_, false, 1, 16);
  p.Request("gone");
  auto l = p.Take("gone");
  ASSERT_TRUE(l.has_value());
  EXPECT_FALSE(l->status.ok());
}

TEST_F(DirPrefetchTest, ASymlinkOnThePathIsNotFollowed) {
  ASSERT_EQ(::symlink("a", (tmp_.path() + "/link").c_str()), 0);
  DirPrefetch p(root_, policy_, false, 1, 16);
  p.Request("link/b");
  auto l = p.Take("link/b");
  ASSERT_TRUE(l.has_value());
  EXPECT_FALSE(l->status.ok());
}

// The walk's order: a/, a/b/, a-c/, d/ ('/' sorts below any name byte). A
// directory passed without being entered is dropped; one still ahead is
// kept.
TEST_F(DirPrefetchTest, DirectoriesTheWalkPassedAreDropped) {
  DirPrefetch p(root_, policy_, false, 1, 16);
  p.Request("a");
  p.Request("a-c");
  p.Request("d");
  p.Request("a/b");
  ASSERT_TRUE(p.Take("a/b").has_value());  // "a" is before it: dropped
  EXPECT_FALSE(p.Take("a").has_value());
  ASSERT_TRUE(p.Take("d").has_value());    // "a-c" is before it: dropped
  EXPECT_FALSE(p.Take("a-c").has_value());
}

TEST_F(DirPrefetchTest, RequestsBeyondTheBoundAreRefused) {
  DirPrefetch p(root_, policy_, false, 1, 2);
  p.Request("a");
  p.Request("a/b");
  p.Request("d");  // over the bound: the caller lists it
  EXPECT_TRUE(p.Take("a").has_value());
  EXPECT_TRUE(p.Take("a/b").has_value());
  EXPECT_FALSE(p.Take("d").has_value());
}

// With enter: listing "" queues a/ and d/ (not a-c/, refused), listing a/
// queues a/b/, all without a Request (whether a worker or Take listed them);
// without enter, nothing is queued that was not requested.
TEST_F(DirPrefetchTest, EnterQueuesTheSubdirectoriesItAccepts) {
  DirPrefetch p(root_, policy_, false, 1, 16,
                [](const std::string& rel) { return rel != "a-c"; });
  p.Request("");
  ASSERT_TRUE(p.Take("").has_value());
  ASSERT_TRUE(p.Take("a").has_value());
  auto b = p.Take("a/b");
  ASSERT_TRUE(b.has_value());
  ASSERT_TRUE(b->status.ok()) << b->status.message();
  ASSERT_EQ(b->entries.size(), 1u);
  EXPECT_EQ(b->entries[0].name, "three");
  EXPECT_FALSE(p.Take("a-c").has_value());
  EXPECT_TRUE(p.Take("d").has_value());

  DirPrefetch plain(root_, policy_, false, 1, 16);
  plain.Request("");
  ASSERT_TRUE(plain.Take("").has_value());
  EXPECT_FALSE(plain.Take("a").has_value());
}

}  // namespace
}  // namespace ferry::protocol
