#include "engine/tree/filter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/temp_tree.h"

namespace ferry {
namespace {

using testing::TempDir;

// Builds a list from rsync filter-style texts: "- PAT" excludes, "+ PAT"
// includes (rsync accepts these prefixes in --exclude arguments too).
FilterList Rules(const std::vector<std::string>& texts) {
  FilterList f;
  for (const std::string& t : texts) {
    Status st = f.AddRule(RuleType::kExclude, t);
    EXPECT_TRUE(st.ok()) << t << ": " << st.ToString();
  }
  return f;
}

bool ExFile(const FilterList& f, std::string_view p) { return f.Excluded(p, false); }
bool ExDir(const FilterList& f, std::string_view p) { return f.Excluded(p, true); }

TEST(FilterListTest, NoRulesIncludesEverything) {
  FilterList f;
  EXPECT_TRUE(f.empty());
  EXPECT_FALSE(ExFile(f, "a"));
  EXPECT_FALSE(ExDir(f, "a/b"));
}

TEST(FilterListTest, RootIsNeverExcluded) {
  FilterList f = Rules({"- *", "- **", "- /"});
  EXPECT_FALSE(ExDir(f, ""));
}

TEST(FilterListTest, PatternWithoutSlashMatchesFinalComponent) {
  FilterList f = Rules({"- *.o"});
  EXPECT_TRUE(ExFile(f, "a.o"));
  EXPECT_TRUE(ExFile(f, "src/lib/a.o"));
  EXPECT_TRUE(ExDir(f, "obj.o"));
  EXPECT_FALSE(ExFile(f, "a.o.txt"));
  EXPECT_FALSE(ExFile(f, "a.o/readme"));  // the walk never gets here anyway
}

TEST(FilterListTest, FirstMatchingRuleWins) {
  FilterList php = Rules({"+ *.php", "- *"});
  EXPECT_FALSE(ExFile(php, "index.php"));
  EXPECT_TRUE(ExFile(php, "index.html"));
  EXPECT_TRUE(ExDir(php, "lib"));  // "- *" takes directories too

  FilterList reversed = Rules({"- *", "+ *.php"});
  EXPECT_TRUE(ExFile(reversed, "index.php"));
}

TEST(FilterListTest, IncludeAllDirsThenFilesIdiom) {
  FilterList f = Rules({"+ */", "+ *.c", "- *"});
  EXPECT_FALSE(ExDir(f, "src"));
  EXPECT_FALSE(ExDir(f, "src/lib"));
  EXPECT_FALSE(ExFile(f, "src/lib/util.c"));
  EXPECT_TRUE(ExFile(f, "src/lib/util.h"));
  EXPECT_TRUE(ExFile(f, "README"));
}

TEST(FilterListTest, LeadingSlashAnchorsAtTransferRoot) {
  FilterList anchored = Rules({"- /foo"});
  EXPECT_TRUE(ExFile(anchored, "foo"));
  EXPECT_TRUE(ExDir(anchored, "foo"));
  EXPECT_FALSE(ExFile(anchored, "a/foo"));

  FilterList floating = Rules({"- foo"});
  EXPECT_TRUE(ExFile(floating, "foo"));
  EXPECT_TRUE(ExFile(floating, "a/b/foo"));
  EXPECT_FALSE(ExFile(floating, "afoo"));

  FilterList deep = Rules({"- /a/*.c"});
  EXPECT_TRUE(ExFile(deep, "a/x.c"));
  EXPECT_FALSE(ExFile(deep, "b/a/x.c"));
  EXPECT_FALSE(ExFile(deep, "a/b/x.c"));
}

TEST(FilterListTest, InnerSlashMatchesTrailingWholeComponents) {
  FilterList f = Rules({"- a/b"});
  EXPECT_TRUE(ExFile(f, "a/b"));
  EXPECT_TRUE(ExFile(f, "x/a/b"));
  EXPECT_TRUE(ExFile(f, "x/y/a/b"));
  EXPECT_FALSE(ExFile(f, "xa/b"));
  EXPECT_FALSE(ExFile(f, "b"));
  EXPECT_FALSE(ExFile(f, "a/b/c"));

  FilterList wild = Rules({"- a/*"});
  EXPECT_TRUE(ExFile(wild, "a/x"));
  EXPECT_TRUE(ExFile(wild, "z/a/x"));
  EXPECT_FALSE(ExFile(wild, "a/x/y"));  // '*' does not cross '/'
  EXPECT_FALSE(ExFile(wild, "ba/x"));
}

TEST(FilterListTest, TrailingSlashMatchesDirectoriesOnly) {
  FilterList f = Rules({"- foo/"});
  EXPECT_TRUE(ExDir(f, "foo"));
  EXPECT_TRUE(ExDir(f, "a/foo"));
  EXPECT_FALSE(ExFile(f, "foo"));  // a file (or symlink) of the same name
  EXPECT_FALSE(ExFile(f, "a/foo"));

  FilterList anchored = Rules({"- /a/foo/"});
  EXPECT_TRUE(ExDir(anchored, "a/foo"));
  EXPECT_FALSE(ExFile(anchored, "a/foo"));
  EXPECT_FALSE(ExDir(anchored, "x/a/foo"));
}

TEST(FilterListTest, QuestionMarkIsOneCharacterButNotSlash) {
  FilterList f = Rules({"- ?.txt", "- **x?y"});
  EXPECT_TRUE(ExFile(f, "a.txt"));
  EXPECT_FALSE(ExFile(f, "ab.txt"));
  EXPECT_FALSE(ExFile(f, ".txt"));
  EXPECT_TRUE(ExFile(f, "p/xqy"));
  EXPECT_FALSE(ExFile(f, "x/y"));
}

TEST(FilterListTest, DoubleStarCrossesDirectories) {
  FilterList below = Rules({"- /a/**"});
  EXPECT_FALSE(ExDir(below, "a"));  // "dir/**" is only what is inside dir
  EXPECT_TRUE(ExFile(below, "a/x"));
  EXPECT_TRUE(ExFile(below, "a/x/y/z"));
  EXPECT_FALSE(ExFile(below, "b/a/x"));

  FilterList infix = Rules({"- a/**/z"});
  EXPECT_TRUE(ExFile(infix, "a/b/z"));
  EXPECT_TRUE(ExFile(infix, "q/a/b/c/z"));
  EXPECT_FALSE(ExFile(infix, "a/z"));  // "/**/" needs a directory between

  FilterList prefix = Rules({"- **/z"});
  EXPECT_TRUE(ExFile(prefix, "z"));
  EXPECT_TRUE(ExFile(prefix, "a/b/z"));
  EXPECT_FALSE(ExFile(prefix, "a/bz"));

  FilterList glued = Rules({"- **z"});
  EXPECT_TRUE(ExFile(glued, "a/bz"));

  FilterList star_is_not = Rules({"- /a/*"});
  EXPECT_TRUE(ExFile(star_is_not, "a/x"));
  EXPECT_FALSE(ExFile(star_is_not, "a/x/y"));
}

TEST(FilterListTest, TripleStarMatchesDirectoryAndContents) {
  FilterList f = Rules({"- dir/***"});
  EXPECT_TRUE(ExDir(f, "dir"));
  EXPECT_TRUE(ExFile(f, "dir/x"));
  EXPECT_TRUE(ExFile(f, "dir/x/y"));
  EXPECT_TRUE(ExDir(f, "p/dir"));  // not anchored
  EXPECT_FALSE(ExFile(f, "dir"));  // a file named dir is not "dir/"
  EXPECT_FALSE(ExDir(f, "dirt"));

  FilterList anchored = Rules({"+ /src/***", "- *"});
  EXPECT_FALSE(ExDir(anchored, "src"));
  EXPECT_FALSE(ExFile(anchored, "src/lib/a.c"));
  EXPECT_TRUE(ExDir(anchored, "docs"));
}

TEST(FilterListTest, CharacterClasses) {
  FilterList f = Rules({"- *.[ch]", "- file[!1-3]", "- [[:upper:]]*", "- []x]y"});
  EXPECT_TRUE(ExFile(f, "a.c"));
  EXPECT_TRUE(ExFile(f, "a.h"));
  EXPECT_FALSE(ExFile(f, "a.o"));
  EXPECT_FALSE(ExFile(f, "file2"));
  EXPECT_TRUE(ExFile(f, "file7"));
  EXPECT_TRUE(ExFile(f, "README"));
  EXPECT_FALSE(ExFile(f, "readme"));
  EXPECT_TRUE(ExFile(f, "]y"));  // ']' first is a member
  EXPECT_TRUE(ExFile(f, "xy"));

  FilterList caret = Rules({"- [^a-c]*"});
  EXPECT_FALSE(ExFile(caret, "beta"));
  EXPECT_TRUE(ExFile(caret, "delta"));

  FilterList no_slash = Rules({"- **a[!x]b"});
  EXPECT_FALSE(ExFile(no_slash, "a/b"));  // even a negated class skips '/'
  EXPECT_TRUE(ExFile(no_slash, "p/a-b"));
}

TEST(FilterListTest, BackslashEscapesOnlyInWildcardPatterns) {
  FilterList star = Rules({"- x\\*y"});
  EXPECT_TRUE(ExFile(star, "x*y"));
  EXPECT_FALSE(ExFile(star, "xzy"));

  FilterList bracket = Rules({"- q\\[1\\]"});
  EXPECT_TRUE(ExFile(bracket, "q[1]"));
  EXPECT_FALSE(ExFile(bracket, "q1"));

  // No wildcard: the backslash is an ordinary character.
  FilterList literal = Rules({"- foo\\bar"});
  EXPECT_TRUE(ExFile(literal, "foo\\bar"));
  EXPECT_FALSE(ExFile(literal, "foobar"));

  // With a wildcard "\b" is just "b"; "\\" is one backslash.
  FilterList wild = Rules({"- foo\\bar*"});
  EXPECT_TRUE(ExFile(wild, "foobar1"));
  EXPECT_FALSE(ExFile(wild, "foo\\bar1"));
  FilterList wild2 = Rules({"- foo\\\\bar*"});
  EXPECT_TRUE(ExFile(wild2, "foo\\bar1"));
}

TEST(FilterListTest, PrefixesOverrideTheDefaultType) {
  FilterList f;
  ASSERT_TRUE(f.AddRule(RuleType::kExclude, "+ keep.c").ok());
  ASSERT_TRUE(f.AddRule(RuleType::kInclude, "- drop.c").ok());
  ASSERT_TRUE(f.AddRule(RuleType::kExclude, "*.c").ok());
  ASSERT_TRUE(f.AddRule(RuleType::kExclude, "-  spaced").ok());
  EXPECT_FALSE(ExFile(f, "keep.c"));
  EXPECT_TRUE(ExFile(f, "drop.c"));
  EXPECT_TRUE(ExFile(f, "other.c"));
  EXPECT_TRUE(ExFile(f, " spaced"));  // only one space belongs to the prefix
  EXPECT_FALSE(ExFile(f, "spaced"));

  FilterList inc;
  ASSERT_TRUE(inc.AddRule(RuleType::kInclude, "*.c").ok());
  ASSERT_TRUE(inc.AddRule(RuleType::kExclude, "*").ok());
  EXPECT_FALSE(ExFile(inc, "a.c"));
  EXPECT_TRUE(ExFile(inc, "a.h"));

  FilterList no_space;  // "-x" and "+x" are plain patterns
  ASSERT_TRUE(no_space.AddRule(RuleType::kExclude, "-x").ok());
  ASSERT_TRUE(no_space.AddRule(RuleType::kInclude, "+y").ok());
  ASSERT_TRUE(no_space.AddRule(RuleType::kExclude, "*").ok());
  EXPECT_TRUE(ExFile(no_space, "-x"));
  EXPECT_FALSE(ExFile(no_space, "+y"));
}

TEST(FilterListTest, BangClearsTheList) {
  FilterList f = Rules({"- *.o", "- *.c"});
  EXPECT_EQ(f.size(), 2u);
  ASSERT_TRUE(f.AddRule(RuleType::kExclude, "!").ok());
  EXPECT_TRUE(f.empty());
  ASSERT_TRUE(f.AddRule(RuleType::kExclude, "!bang").ok());  // a pattern
  EXPECT_TRUE(ExFile(f, "!bang"));
  EXPECT_FALSE(ExFile(f, "a.o"));
}

TEST(FilterListTest, BadRulesAreRejectedWithTheirText) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "bad filter rule \"\": empty pattern"},
      {"- ", "bad filter rule \"- \": no pattern after the prefix"},
      {"*.[ch", "bad filter rule \"*.[ch\": unterminated '[' character class"},
      {"[a\\", "bad filter rule \"[a\\\": unterminated '[' character class"},
      {"[[:alpha:]", "bad filter rule \"[[:alpha:]\": unterminated '[' character class"},
      {"[[:bogus:]]", "bad filter rule \"[[:bogus:]]\": unknown character class [:bogus:]"},
      {"foo*\\", "bad filter rule \"foo*\\\": trailing backslash"},
  };
  for (const Case& c : cases) {
    FilterList f = Rules({"- keep"});
    Status st = f.AddRule(RuleType::kExclude, c.text);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_EQ(st.message(), c.message);
    EXPECT_EQ(f.size(), 1u) << "a bad rule must not change the list";
  }
  FilterList f;
  EXPECT_FALSE(f.AddRule(RuleType::kExclude, std::string(4096, 'a')).ok());
  EXPECT_TRUE(f.AddRule(RuleType::kExclude, "foo\\").ok());  // no wildcard: literal
  EXPECT_TRUE(f.AddRule(RuleType::kExclude, "[[:]x]").ok());  // '[' and ':' members
  EXPECT_TRUE(ExFile(f, ":x]"));
}

TEST(FilterListTest, ExcludeFromFileSkipsCommentsAndBlankLines) {
  TempDir dir;
  const std::string path = dir / "rules";
  testing::WriteFile(path,
                     "# a comment\n"
                     "; another comment\n"
                     "\n"
                     "*.o\r\n"        // CRLF line
                     "+ keep.tmp\n"
                     "*.tmp\n"
                     "- #hash\n"      // '#' not first: a pattern
                     "trail \n"       // the trailing space is kept
                     " lead\n"
                     "a#b");           // no final newline
  FilterList f;
  Status st = f.AddRulesFromFile(RuleType::kExclude, path);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(f.size(), 7u);
  EXPECT_TRUE(ExFile(f, "x.o"));
  EXPECT_FALSE(ExFile(f, "keep.tmp"));
  EXPECT_TRUE(ExFile(f, "x.tmp"));
  EXPECT_TRUE(ExFile(f, "#hash"));
  EXPECT_TRUE(ExFile(f, "trail "));
  EXPECT_FALSE(ExFile(f, "trail"));
  EXPECT_TRUE(ExFile(f, " lead"));
  EXPECT_TRUE(ExFile(f, "a#b"));
  EXPECT_FALSE(ExFile(f, "# a comment"));
  EXPECT_FALSE(ExFile(f, "; another comment"));
}

TEST(FilterListTest, IncludeFromFileDefaultsToInclude) {
  FilterList f;
  ASSERT_TRUE(f.AddRulesFromText(RuleType::kInclude, "*/\n*.c\n- *\n", "inc").ok());
  EXPECT_FALSE(ExDir(f, "src"));
  EXPECT_FALSE(ExFile(f, "src/a.c"));
  EXPECT_TRUE(ExFile(f, "src/a.h"));
}

TEST(FilterListTest, BangInFileClearsEarlierRules) {
  FilterList f = Rules({"- *.c"});
  ASSERT_TRUE(f.AddRulesFromText(RuleType::kExclude, "*.o\n!\n*.h\n", "f").ok());
  EXPECT_EQ(f.size(), 1u);
  EXPECT_FALSE(ExFile(f, "a.c"));
  EXPECT_FALSE(ExFile(f, "a.o"));
  EXPECT_TRUE(ExFile(f, "a.h"));
}

TEST(FilterListTest, FileErrorsNameThePathAndLine) {
  TempDir dir;
  const std::string path = dir / "bad";
  testing::WriteFile(path, "# ok\n*.o\r\n\n[oops\n*.c\n");
  FilterList f = Rules({"- keep"});
  Status st = f.AddRulesFromFile(RuleType::kExclude, path);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            path + ":4: bad filter rule \"[oops\": unterminated '[' character class");
  EXPECT_EQ(f.size(), 1u) << "a bad file adds nothing";

  Status crlf = f.AddRulesFromText(RuleType::kExclude, "a\r\nb\r\n- \r\n", "x");
  EXPECT_EQ(crlf.message(), "x:3: bad filter rule \"- \": no pattern after the prefix");

  Status missing = f.AddRulesFromFile(RuleType::kExclude, dir / "nope");
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.message(),
            "open exclude file " + (dir / "nope") + ": No such file or directory");
  Status missing_inc = f.AddRulesFromFile(RuleType::kInclude, dir / "nope");
  EXPECT_EQ(missing_inc.message().rfind("open include file ", 0), 0u);

  Status is_dir = f.AddRulesFromFile(RuleType::kExclude, dir.path());
  EXPECT_FALSE(is_dir.ok());
  EXPECT_NE(is_dir.message().find(dir.path()), std::string::npos);
}

TEST(FilterListTest, CopiesAreIndependentAndConstCallsAreThreadSafe) {
  FilterList a = Rules({"+ */", "+ *.c", "- *"});
  FilterList b = a;
  b.Clear();
  EXPECT_TRUE(ExFile(a, "x.h"));
  EXPECT_FALSE(ExFile(b, "x.h"));

  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&a, &wrong, t] {
      for (int i = 0; i < 20000; ++i) {
        if (!a.Excluded("dir/sub/x.h", false) || a.Excluded("dir/sub/x.c", false) ||
            a.Excluded("dir/sub", true)) {
          ++wrong[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

// ---------------------------------------------------------------------------
// The oracle: rsync itself decides which paths a set of rules lets through.

struct Arg {
  RuleType type;
  std::string text;        // the option's argument, or the file's contents
  bool from_file = false;  // --exclude-from / --include-from
};
Arg E(std::string t) { return {RuleType::kExclude, std::move(t)}; }
Arg I(std::string t) { return {RuleType::kInclude, std::move(t)}; }
Arg EF(std::string t) { return {RuleType::kExclude, std::move(t), true}; }
Arg IF(std::string t) { return {RuleType::kInclude, std::move(t), true}; }

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string Describe(const std::vector<Arg>& args) {
  std::string d;
  for (const Arg& a : args) {
    d += a.type == RuleType::kExclude ? " --exclude" : " --include";
    d += a.from_file ? "-from=<<" : "=";
    d += ShellQuote(a.text);
  }
  return d;
}

class RsyncOracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/rsync", X_OK) != 0) GTEST_SKIP() << "rsync not installed";
    for (const char* f :
         {"a.c", "a.o", "b.txt", "README", "foo", "foo.bak", "x*y", "q[1]", "back\\slash",
          "sp ace", "+ plus", "#hash", ";semi", "!bang", "-dash", "trail ", "file1", "file2",
          "file10", "Upper.TXT", "caf\xc3\xa9.txt", "d/foo/bar.c", "d/foo/bar.o",
          "d/foo/deep/e/f.txt", "d/bar", "d/sub/foo", "d/sub/a.c", "src/main.c",
          "src/lib/util.c", "src/lib/util.h", "src/lib/tmp/scratch.c", "src/.git/config",
          "src/.git/objects/ab/cd", "build/out.o", "build/foo/x.o", "tmp/t1",
          "nested/tmp/t2", "nested/a/b/c/d.txt", "nested/a/b/c/e/f.c", "dir_name/inner/x",
          "other/dir_name/y", "dir_name2/z", "a/b", "x/a/b/c"}) {
      testing::WriteFile(src_ / f, "x");
    }
    testing::MakeDirs(src_ / "empty");
    ASSERT_EQ(::symlink("d", (src_ / "linkdir").c_str()), 0);
    ASSERT_EQ(::symlink("a.c", (src_ / "linkfile").c_str()), 0);
    testing::MakeDirs(dst_.path());
  }

  std::set<std::string> RsyncPaths(const std::vector<Arg>& args) {
    std::string cmd = "rsync -a -8 --dry-run --out-format=%n";
    int n = 0;
    for (const Arg& a : args) {
      std::string opt = a.type == RuleType::kExclude ? "--exclude" : "--include";
      if (a.from_file) {
        std::string file = files_ / ("rules" + std::to_string(n++));
        testing::WriteFile(file, a.text);
        cmd += " " + opt + "-from=" + ShellQuote(file);
      } else {
        cmd += " " + ShellQuote(opt + "=" + a.text);
      }
    }
    cmd += " " + ShellQuote(src_.path() + "/") + " " + ShellQuote(dst_.path() + "/") + " 2>&1";
    std::string out;
    int rc = testing::Shell(cmd, &out);
    EXPECT_EQ(rc, 0) << cmd << "\n" << out;
    std::set<std::string> paths;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (line.ends_with('/')) line.pop_back();
      if (line.empty() || line == ".") continue;
      paths.insert(line);
    }
    return paths;
  }

  std::set<std::string> FerryPaths(const std::vector<Arg>& args) {
    FilterList f;
    for (const Arg& a : args) {
      Status st = a.from_file ? f.AddRulesFromText(a.type, a.text, "rules")
                              : f.AddRule(a.type, a.text);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    std::set<std::string> paths;
    Walk(f, "", &paths);
    return paths;
  }

  // The engine's walk: an excluded directory is not entered.
  void Walk(const FilterList& f, const std::string& rel, std::set<std::string>* out) {
    namespace fs = std::filesystem;
    std::vector<fs::directory_entry> entries;
    for (const auto& e : fs::directory_iterator(rel.empty() ? src_.path() : src_ / rel)) {
      entries.push_back(e);
    }
    for (const auto& e : entries) {
      std::string child = rel.empty() ? e.path().filename().string()
                                      : rel + "/" + e.path().filename().string();
      const bool is_dir = e.symlink_status().type() == fs::file_type::directory;
      if (f.Excluded(child, is_dir)) continue;
      out->insert(child);
      if (is_dir) Walk(f, child, out);
    }
  }

  void Check(const std::vector<Arg>& args) {
    std::set<std::string> want = RsyncPaths(args);
    std::set<std::string> got = FerryPaths(args);
    std::vector<std::string> only_rsync, only_ferry;
    std::ranges::set_difference(want, got, std::back_inserter(only_rsync));
    std::ranges::set_difference(got, want, std::back_inserter(only_ferry));
    std::string diff;
    for (const auto& p : only_rsync) diff += "\n  sent by rsync only: " + p;
    for (const auto& p : only_ferry) diff += "\n  kept by ferry only: " + p;
    EXPECT_TRUE(diff.empty()) << "rules:" << Describe(args) << diff;
  }

  TempDir src_, dst_, files_;
};

TEST_F(RsyncOracleTest, AgreesWithRsyncOnEveryPattern) {
  const std::vector<std::vector<Arg>> cases = {
      {},
      {E("*.o")},
      {I("*.c"), E("*")},
      {I("*/"), I("*.c"), E("*")},
      {I("*/"), E("*")},
      {E("foo")}, {E("foo/")}, {E("/foo")}, {E("/foo/")},
      {E("tmp/")}, {E("/tmp")}, {E("tmp")},
      {E("d/foo")}, {E("sub/foo")}, {E("*/foo")}, {E("/*/foo")}, {E("a/b")}, {E("/a/b")},
      {E("lib/*.c")}, {E("src/lib")}, {E("/src/lib/*")}, {E("src/*")}, {E("*/*/*")},
      {E("**/tmp")}, {E("**tmp")}, {E("**/t?")}, {E("**/")}, {E("**/foo/**")},
      {E("src/**/tmp")}, {E("/d/**")}, {E("d/**")}, {E("nested/**/t2")},
      {E("/nested/**/c/*.txt")}, {E("/d/foo/**/f.txt")}, {E("/d/**/f.txt")}, {E("/**/foo")},
      {E("d*/**")}, {E("a/**/b")}, {E("a/**")},
      {I("/src/***"), E("*")},
      {I("dir_name/***"), I("*/"), E("*")},
      {E("dir_name/***")}, {E("/dir_name/***")}, {E("dir_name/")}, {E("dir_name*")},
      {E("d/foo/***")}, {E("/d/*/deep/***")}, {E("***")}, {E("foo***")}, {E("nested/a/***/")},
      {E("*.[ch]")}, {E("file[0-9]")}, {E("file[!1]*")}, {E("[[:upper:]]*")},
      {E("*[[:digit:]][[:digit:]]")}, {E("[^a-c]*")}, {E("[#;!]*")}, {E("[+-]*")},
      {E("[[:punct:]]*")}, {E("*[[:space:]]*")}, {E("[]x]*")}, {E("[a-]*")},
      {E("**a[!x]b")}, {E("/a[^q]b")}, {E("/x?a/b")}, {E("**/a[/]b")},
      {E("x\\*y")}, {E("q\\[1\\]")}, {E("back\\slash")}, {E("back\\\\sl*")}, {E("back\\sl*")},
      {E("?")}, {E("??.?")}, {E("caf?.txt")}, {E("caf??.txt")}, {E("caf*")},
      {E("sp ace")}, {E("- + plus")}, {E("+ a.c"), E("*.c")}, {I("- a.c")}, {E("!bang")},
      {E("*.o"), E("!"), E("*.c")}, {E("trail ")}, {E("trail")}, {E("-dash")}, {E(" lead")},
      {E("*")}, {E("**")}, {E("*/")}, {E("/*/*/")}, {E("/*")}, {E("*o*/")},
      {E("a/b/c")}, {E("/nested/a/b/c/")}, {E("/")},
      {E(".git/")}, {E("linkdir/")}, {E("linkdir")}, {E("link*/")}, {E("link*")},
      {E("*.TXT")}, {E("*.txt")},
      {I("/d/"), I("/d/foo/"), I("/d/foo/bar.c"), E("*")},
      {I("foo/"), I("foo/bar.c"), E("*")},
      {I("/src/"), I("/src/lib/"), I("/src/lib/**"), E("*")},
      {E("/empty/")},
      {EF("# comment\n; other\n\n*.o\r\n+ a.c\n*.c\n- #hash\n!bang\n")},
      {IF("*/\n*.c\n- *\n")},
      {EF("*.o\n!\n*.h\n")},
      {EF("src/\n"), I("*.c"), E("*.o")},
      {I("d/"), EF("+ d/foo/\n- d/*\n")},
      {IF("/src/***\n- *\n")},
  };
  for (const auto& c : cases) Check(c);
}

}  // namespace
}  // namespace ferry
