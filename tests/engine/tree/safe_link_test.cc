// IsUnsafeSymlink: rsync's --safe-links judgement, and the chains that must
// not defeat it (CVE-2024-12088 class).
#include "engine/tree/safe_link.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(SafeLinkTest, TargetsInsideTheTreeAreSafe) {
  EXPECT_FALSE(IsUnsafeSymlink("file", "link"));
  EXPECT_FALSE(IsUnsafeSymlink("sub/file", "link"));
  EXPECT_FALSE(IsUnsafeSymlink("./sub//file/", "link"));
  EXPECT_FALSE(IsUnsafeSymlink("../file", "dir/link"));
  EXPECT_FALSE(IsUnsafeSymlink("../../a/b", "x/y/link"));
  EXPECT_FALSE(IsUnsafeSymlink(".", "link"));
}

TEST(SafeLinkTest, AbsoluteAndEmptyTargetsAreUnsafe) {
  EXPECT_TRUE(IsUnsafeSymlink("/etc/passwd", "link"));
  EXPECT_TRUE(IsUnsafeSymlink("/", "dir/link"));
  EXPECT_TRUE(IsUnsafeSymlink("", "link"));
}

TEST(SafeLinkTest, ClimbingAboveTheRootIsUnsafe) {
  EXPECT_TRUE(IsUnsafeSymlink("..", "link"));
  EXPECT_TRUE(IsUnsafeSymlink("../secret", "link"));
  EXPECT_TRUE(IsUnsafeSymlink("../../secret", "dir/link"));
  EXPECT_TRUE(IsUnsafeSymlink("./../x", "link"));
  // Empty and "." components of the link's own path add no depth.
  EXPECT_TRUE(IsUnsafeSymlink("../../x", "./dir//link"));
}

TEST(SafeLinkTest, CVE_2024_12088_DotDotAfterANormalComponentIsUnsafe) {
  // With `a -> .` in the same directory, `a/../../etc` is `../etc`: one
  // level above where a lexical "a/.. cancels" count would put it.
  EXPECT_TRUE(IsUnsafeSymlink("a/../../etc", "dir/x"));
  EXPECT_TRUE(IsUnsafeSymlink("a/..", "dir/x"));
  EXPECT_TRUE(IsUnsafeSymlink("../sub/../x", "d1/d2/x"));
}

}  // namespace
}  // namespace ferry
