// The compiled step graph of every example plan (examples/plans/*.toml),
// compared with the committed golden text in tests/engine/plan/golden/.
//
// When a change to the compiler or to an example is intended, regenerate
// the goldens and review the diff:
//   FERRY_UPDATE_GOLDENS=1 ctest --test-dir build/test -R plan_compile_golden
//   git diff tests/engine/plan/golden/
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/plan/compile.h"
#include "engine/plan/parse.h"

namespace ferry::plan {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, GraphMatchesGolden) {
  std::string root = FERRY_SOURCE_DIR;
  std::string plan_path = root + "/examples/plans/" + GetParam() + ".toml";
  std::string golden_path = root + "/tests/engine/plan/golden/" + GetParam() + ".txt";
  std::string text = Slurp(plan_path);
  ASSERT_FALSE(text.empty()) << "cannot read " << plan_path;
  std::vector<Diagnostic> diags;
  Plan p = ParsePlan(text, "examples/plans/" + GetParam() + ".toml", &diags);
  StepGraph g = CompilePlan(p, &diags);
  for (const Diagnostic& d : diags) ADD_FAILURE() << d.ToString();
  std::string got = FormatGraph(g);
  if (std::getenv("FERRY_UPDATE_GOLDENS")) {
    std::ofstream(golden_path, std::ios::binary) << got;
    GTEST_SKIP() << "rewrote " << golden_path;
  }
  std::string want = Slurp(golden_path);
  ASSERT_FALSE(want.empty()) << "missing golden " << golden_path
                             << " (FERRY_UPDATE_GOLDENS=1 creates it)";
  EXPECT_EQ(got, want) << "the compiled graph of " << plan_path << " changed; if intended, "
                       << "run with FERRY_UPDATE_GOLDENS=1 and review git diff";
}

INSTANTIATE_TEST_SUITE_P(Examples, GoldenTest,
                         ::testing::Values("single-account", "database-account", "transit",
                                           "many-accounts", "ssh-push", "daemon-preseed"),
                         [](const auto& i) {
                           std::string n = i.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace ferry::plan
