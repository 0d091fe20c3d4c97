#include "protocol/path_check.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::protocol {
namespace {

std::string Why(std::string_view path) {
  Status s = CheckWirePath(path, "path");
  return s.ok() ? "" : s.message();
}

TEST(PathCheck, PlainRelativePathsPass) {
  for (const char* ok : {"a", "a/b/c", ".hidden", "a/..b", "a/b..", "...", "x y/ü"}) {
    EXPECT_TRUE(CheckWirePath(ok, "path").ok()) << ok;
  }
  EXPECT_TRUE(CheckWirePath(std::string(255, 'n'), "path").ok());
}

TEST(PathCheck, Cve2024_12087_AbsolutePathIsRefused) {
  EXPECT_EQ(Why("/etc/passwd"), "path '/etc/passwd' is absolute");
}

TEST(PathCheck, Cve2024_12087_DotDotIsRefused) {
  EXPECT_EQ(Why(".."), "path '..' has a '..' component");
  EXPECT_EQ(Why("a/../../etc"), "path 'a/../../etc' has a '..' component");
  EXPECT_EQ(Why("a/.."), "path 'a/..' has a '..' component");
}

TEST(PathCheck, Cve2024_12087_EmptyAndDotComponentsAreRefused) {
  EXPECT_EQ(Why(""), "path '' is empty");
  EXPECT_EQ(Why("a//b"), "path 'a//b' has an empty component");
  EXPECT_EQ(Why("a/"), "path 'a/' has an empty component");
  EXPECT_EQ(Why("./a"), "path './a' has a '.' component");
  EXPECT_EQ(Why("."), "path '.' has a '.' component");
}

TEST(PathCheck, Cve2024_12087_NulAndControlCharactersAreRefused) {
  EXPECT_EQ(Why(std::string("a\0/etc", 6)), "path 'a\\x00/etc' contains a NUL byte at offset 1");
  EXPECT_EQ(Why("a\nb"), "path 'a\\x0ab' contains a control character at offset 1");
  EXPECT_EQ(Why("a\x7f"), "path 'a\\x7f' contains a control character at offset 1");
}

TEST(PathCheck, Cve2024_12084_NameLongerThanPathMaxIsRefused) {
  std::string longp;
  while (longp.size() < 4096) longp += "abcdefgh/";
  longp.resize(4096);
  EXPECT_NE(Why(longp).find("longer than PATH_MAX"), std::string::npos);
  EXPECT_NE(Why("a/" + std::string(256, 'c')).find("longer than NAME_MAX (255)"),
            std::string::npos);
}

TEST(PathCheck, NamesAreSingleComponents) {
  EXPECT_TRUE(CheckWireName("file", "name").ok());
  EXPECT_FALSE(CheckWireName("a/b", "name").ok());
  EXPECT_FALSE(CheckWireName("..", "name").ok());
  EXPECT_FALSE(CheckWireName("", "name").ok());
}

TEST(PathCheck, QuotePathEscapesAndCuts) {
  EXPECT_EQ(QuotePath("a'b\\c\x01"), "'a\\x27b\\x5cc\\x01'");
  EXPECT_EQ(QuotePath(std::string(300, 'z')),
            "'" + std::string(200, 'z') + "'... (300 bytes)");
}

}  // namespace
}  // namespace ferry::protocol
