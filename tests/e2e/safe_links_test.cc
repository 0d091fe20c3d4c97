// --safe-links end to end, local and over the remote-shell stand-in (push
// and pull): symlinks whose target leaves the transferred tree are not
// copied, chains through another link included (CVE-2024-12088 class); safe
// ones are. Each case is judged on DST's contents, the rsync-style
// "ignoring unsafe symlink" lines and the --stats count.
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

#ifndef FERRY_STANDIN
#error "FERRY_STANDIN must name tests/remote_shell_standin.sh"
#endif

namespace ferry::e2e {
namespace {

enum class Mode { kLocal, kPush, kPull };

std::string ModeName(const ::testing::TestParamInfo<Mode>& i) {
  switch (i.param) {
    case Mode::kLocal: return "Local";
    case Mode::kPush: return "Push";
    case Mode::kPull: return "Pull";
  }
  return "?";
}

class SafeLinksTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    WriteFile(tmp_ / "secret", "outside the tree\n");
    WriteFile(S("file"), "data\n");
    MakeDirs(S("sub"));
    Link(".", "a");                         // safe: the root itself
    Link("a/../../secret", "x");            // chain: a -> . makes it ../secret
    Link("../../secret", "sub/esc");        // direct escape
    Link(tmp_ / "secret", "abs");           // absolute
    Link("../file", "sub/ok");              // safe, relative
    Link("../a/file", "sub/through");       // safe: no ".." after a name
  }

  void Link(const std::string& target, const std::string& rel) {
    ASSERT_EQ(::symlink(target.c_str(), S(rel).c_str()), 0) << rel;
  }

  Proc Sync(std::vector<std::string> args) {
    std::vector<std::string> argv = {Ferry(), "sync", "--no-progress", "--stats"};
    if (GetParam() != Mode::kLocal) {
      for (const char* a : {"-e", FERRY_STANDIN, "--remote-ferry"}) argv.push_back(a);
      argv.push_back(Ferry());
    }
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string host = "testhost:";
    argv.push_back((GetParam() == Mode::kPull ? host : "") + src_ + "/");
    argv.push_back((GetParam() == Mode::kPush ? host : "") + dst_ + "/");
    return RunProcess(argv, tmp_.path());
  }

  std::string S(const std::string& rel) const { return src_ + "/" + rel; }
  std::string D(const std::string& rel) const { return dst_ + "/" + rel; }
  static std::string Target(const std::string& p) {
    char buf[4096];
    const ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
    return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
  }

  TempDir tmp_;
  std::string src_, dst_;
};

TEST_P(SafeLinksTest, CVE_2024_12088_UnsafeLinksAndChainsAreIgnored) {
  Proc p = Sync({"--safe-links"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  // Safe links are kept, exactly.
  EXPECT_EQ(Target(D("a")), ".");
  EXPECT_EQ(Target(D("sub/ok")), "../file");
  EXPECT_EQ(Target(D("sub/through")), "../a/file");
  EXPECT_EQ(ReadFile(D("file")), "data\n");
  // Unsafe ones are not on DST at all.
  EXPECT_FALSE(Exists(D("x"))) << "a chain through a -> . escaped";
  EXPECT_FALSE(Exists(D("sub/esc")));
  EXPECT_FALSE(Exists(D("abs")));
  // Reported like rsync, once each, and counted.
  const std::string all = p.out + p.err;
  for (const char* name : {"x", "sub/esc", "abs"}) {
    const std::string line = std::string("ignoring unsafe symlink '") + name + "'";
    const size_t at = all.find(line);
    EXPECT_NE(at, std::string::npos) << line << "\n" << p.Dump();
    EXPECT_EQ(all.find(line, at + 1), std::string::npos) << "reported twice: " << line;
  }
  EXPECT_NE(all.find("Unsafe symlinks ignored (--safe-links): 3"), std::string::npos)
      << p.Dump();
}

TEST_P(SafeLinksTest, WithoutSafeLinksEveryLinkIsCopied) {
  Proc p = Sync({});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Target(D("x")), "a/../../secret");
  EXPECT_EQ(Target(D("sub/esc")), "../../secret");
  EXPECT_EQ(Target(D("abs")), tmp_ / "secret");
  EXPECT_EQ((p.out + p.err).find("ignoring unsafe symlink"), std::string::npos);
}

TEST_P(SafeLinksTest, AnUnsafeLinkLeavesDstsEntryOfThatNameAlone) {
  WriteFile(D("abs"), "DST's own file\n");
  Proc p = Sync({"--safe-links", "--delete"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(ReadFile(D("abs")), "DST's own file\n");
}

INSTANTIATE_TEST_SUITE_P(Modes, SafeLinksTest,
                         ::testing::Values(Mode::kLocal, Mode::kPush, Mode::kPull), ModeName);

}  // namespace
}  // namespace ferry::e2e
