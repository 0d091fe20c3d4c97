// `ferry rdiff` against Debian's rdiff (librsync 2.3): signatures and deltas
// made by one tool are consumed by the other and the results are
// byte-identical to the new file, for every librsync signature format.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <string>

#include "tests/testing/temp_tree.h"

namespace ferry {
namespace {

using ::ferry::testing::ReadFile;
using ::ferry::testing::Shell;
using ::ferry::testing::TempDir;
using ::ferry::testing::WriteFile;

std::string Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// An old/new pair: text-ish and binary regions, with edits, an insert, a
// delete and a moved range.
std::pair<std::string, std::string> Pair(size_t size, uint64_t seed) {
  std::string old_data = Random(size / 2, seed);
  for (size_t i = 0; old_data.size() < size; ++i) {
    old_data += "line " + std::to_string(i) + " of the old file\n";
  }
  std::string n = old_data;
  if (n.size() > 100) {
    n.replace(n.size() / 3, 50, Random(50, seed + 1));
    n.insert(n.size() / 2, "INSERTED TEXT");
    n.erase(n.size() / 4, 30);
    std::string moved = n.substr(10, 40);
    n.erase(10, 40);
    n += moved;
  } else {
    n += "x";
  }
  return {old_data, n};
}

std::string Q(const std::string& s) { return "'" + s + "'"; }

class RdiffInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(RDIFF_BINARY, X_OK) != 0) {
      GTEST_SKIP() << RDIFF_BINARY << " not installed (apt-get install rdiff)";
    }
  }
  int Run(const std::string& cmd) {
    std::string out;
    const int rc = Shell(cmd + " 2>&1", &out);
    EXPECT_EQ(rc, 0) << cmd << "\n" << out;
    return rc;
  }
  std::string ferry_ = FERRY_BINARY;
  std::string rdiff_ = RDIFF_BINARY;
  TempDir dir_;
};

// rdiff signature -> ferry rdiff delta -> rdiff patch.
TEST_F(RdiffInteropTest, RdiffSignatureFerryDeltaRdiffPatch) {
  for (size_t size : {size_t{0}, size_t{10}, size_t{5000}, size_t{1} << 20}) {
    for (const std::string& opts :
         {std::string(""), std::string("-H md4 -R rollsum"), std::string("-H md4"),
          std::string("-R rollsum -b 512 -S 8")}) {
      SCOPED_TRACE("size " + std::to_string(size) + " opts '" + opts + "'");
      auto [old_data, new_data] = Pair(size, size + opts.size());
      const std::string old_f = dir_ / "old", new_f = dir_ / "new";
      WriteFile(old_f, old_data);
      WriteFile(new_f, new_data);
      const std::string sig = dir_ / "sig", delta = dir_ / "delta", out = dir_ / "out";
      Run(rdiff_ + " -f " + opts + " signature " + Q(old_f) + " " + Q(sig));
      Run(ferry_ + " rdiff delta -f " + Q(sig) + " " + Q(new_f) + " " + Q(delta));
      Run(rdiff_ + " -f patch " + Q(old_f) + " " + Q(delta) + " " + Q(out));
      EXPECT_TRUE(ReadFile(out) == new_data);
    }
  }
}

// ferry rdiff signature -> rdiff delta -> ferry rdiff patch.
TEST_F(RdiffInteropTest, FerrySignatureRdiffDeltaFerryPatch) {
  for (size_t size : {size_t{0}, size_t{10}, size_t{5000}, size_t{1} << 20}) {
    for (const std::string& opts :
         {std::string(""), std::string("-H md4 -R rollsum"),
          std::string("-H blake2 -R rollsum"), std::string("-b 1024 --sum-size=-1")}) {
      SCOPED_TRACE("size " + std::to_string(size) + " opts '" + opts + "'");
      auto [old_data, new_data] = Pair(size, size * 7 + opts.size());
      const std::string old_f = dir_ / "old", new_f = dir_ / "new";
      WriteFile(old_f, old_data);
      WriteFile(new_f, new_data);
      const std::string sig = dir_ / "sig", delta = dir_ / "delta", out = dir_ / "out";
      Run(ferry_ + " rdiff signature -f " + opts + " " + Q(old_f) + " " + Q(sig));
      Run(rdiff_ + " -f delta " + Q(sig) + " " + Q(new_f) + " " + Q(delta));
      Run(ferry_ + " rdiff patch -f " + Q(old_f) + " " + Q(delta) + " " + Q(out));
      EXPECT_TRUE(ReadFile(out) == new_data);
    }
  }
}

// Same files in, same bytes out: ferry's signature is rdiff's signature.
TEST_F(RdiffInteropTest, SignaturesAreByteIdenticalToRdiffs) {
  auto [old_data, new_data] = Pair(1 << 20, 3);
  const std::string old_f = dir_ / "old";
  WriteFile(old_f, old_data);
  for (const std::string& opts : {std::string(""), std::string("-H md4 -R rollsum -b 700")}) {
    Run(ferry_ + " rdiff signature -f " + opts + " " + Q(old_f) + " " + Q(dir_ / "a"));
    Run(rdiff_ + " -f " + opts + " signature " + Q(old_f) + " " + Q(dir_ / "b"));
    EXPECT_TRUE(ReadFile(dir_ / "a") == ReadFile(dir_ / "b")) << opts;
  }
}

TEST_F(RdiffInteropTest, StdinAndStdout) {
  auto [old_data, new_data] = Pair(100000, 4);
  const std::string old_f = dir_ / "old", new_f = dir_ / "new";
  WriteFile(old_f, old_data);
  WriteFile(new_f, new_data);
  Run(ferry_ + " rdiff signature < " + Q(old_f) + " > " + Q(dir_ / "sig"));
  Run("cat " + Q(new_f) + " | " + ferry_ + " rdiff delta " + Q(dir_ / "sig") +
      " - - > " + Q(dir_ / "delta"));
  Run(ferry_ + " rdiff patch " + Q(old_f) + " < " + Q(dir_ / "delta") + " > " +
      Q(dir_ / "out"));
  EXPECT_TRUE(ReadFile(dir_ / "out") == new_data);
}

TEST_F(RdiffInteropTest, ErrorsHaveRdiffExitCodes) {
  WriteFile(dir_ / "old", "some data");
  WriteFile(dir_ / "exists", "x");
  WriteFile(dir_ / "garbage", "this is not a signature");
  std::string out;
  // Refuses to overwrite without --force; 100 = RS_IO_ERROR.
  EXPECT_EQ(Shell(ferry_ + " rdiff signature " + Q(dir_ / "old") + " " +
                      Q(dir_ / "exists") + " 2>&1", &out), 100) << out;
  EXPECT_NE(out.find("--force"), std::string::npos) << out;
  EXPECT_EQ(ReadFile(dir_ / "exists"), "x");
  // Missing input.
  EXPECT_EQ(Shell(ferry_ + " rdiff signature " + Q(dir_ / "nope") + " " +
                      Q(dir_ / "s") + " 2>&1", &out), 100) << out;
  EXPECT_NE(out.find("No such file"), std::string::npos) << out;
  // Not a signature: the same status as rdiff's (librsync's RS_CORRUPT).
  const int rdiff_rc = Shell(rdiff_ + " delta " + Q(dir_ / "garbage") + " " +
                             Q(dir_ / "old") + " " + Q(dir_ / "d1") + " 2>&1");
  EXPECT_NE(rdiff_rc, 0);
  EXPECT_EQ(Shell(ferry_ + " rdiff delta " + Q(dir_ / "garbage") + " " +
                      Q(dir_ / "old") + " " + Q(dir_ / "d2") + " 2>&1", &out),
            rdiff_rc) << out;
  // A truncated delta.
  Run(ferry_ + " rdiff signature " + Q(dir_ / "old") + " " + Q(dir_ / "sig"));
  Run(ferry_ + " rdiff delta " + Q(dir_ / "sig") + " " + Q(dir_ / "exists") + " " +
      Q(dir_ / "delta"));
  const std::string full = ReadFile(dir_ / "delta");
  WriteFile(dir_ / "cut", full.substr(0, full.size() - 1));
  EXPECT_EQ(Shell(ferry_ + " rdiff patch " + Q(dir_ / "old") + " " + Q(dir_ / "cut") +
                      " " + Q(dir_ / "o1") + " 2>&1", &out),
            Shell(rdiff_ + " patch " + Q(dir_ / "old") + " " + Q(dir_ / "cut") + " " +
                  Q(dir_ / "o2") + " 2>&1")) << out;
  // Usage error.
  EXPECT_EQ(Shell(ferry_ + " rdiff 2>&1", &out), 1) << out;
  EXPECT_EQ(Shell(ferry_ + " rdiff signature -H sha1 2>&1", &out), 1) << out;
}

}  // namespace
}  // namespace ferry
