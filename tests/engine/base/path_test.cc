// engine/base/path.h: the path-string helpers.
#include "engine/base/path.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry {
namespace {

TEST(EscapeControlBytes, ControlBytesShowAsRsyncsOctalEscapes) {
  EXPECT_EQ(EscapeControlBytes("new\nline"), "new\\#012line");
  EXPECT_EQ(EscapeControlBytes(std::string("a\x01" "b\x1f" "c\x7f", 6)), "a\\#001b\\#037c\\#177");
  EXPECT_EQ(EscapeControlBytes("\ttab"), "\\#011tab");
}

TEST(EscapeControlBytes, OtherBytesStayAsTheyAre) {
  EXPECT_EQ(EscapeControlBytes("plain/path name-1.txt"), "plain/path name-1.txt");
  EXPECT_EQ(EscapeControlBytes("bad\xffname \xc3\xa9"), "bad\xffname \xc3\xa9");
  EXPECT_EQ(EscapeControlBytes(""), "");
  // Escaping twice changes nothing more: the result has no control byte.
  EXPECT_EQ(EscapeControlBytes(EscapeControlBytes("x\ny")), "x\\#012y");
}

TEST(SplitParent, SplitsAtTheLastSlash) {
  EXPECT_EQ(SplitParent("a/b/c"), (std::pair<std::string, std::string>{"a/b", "c"}));
  EXPECT_EQ(SplitParent("c"), (std::pair<std::string, std::string>{".", "c"}));
  EXPECT_EQ(SplitParent("/c"), (std::pair<std::string, std::string>{"/", "c"}));
  EXPECT_EQ(StripTrailingSlashes("dir///"), "dir");
  EXPECT_EQ(StripTrailingSlashes("/"), "/");
}

}  // namespace
}  // namespace ferry
