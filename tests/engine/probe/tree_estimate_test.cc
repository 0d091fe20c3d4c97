// --estimate's numbers: exact counts for a generated tree, the mtime window,
// the dry-run plan against DST, and the model's arithmetic.
#include "engine/probe/tree_estimate.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <string>

#include "tests/testing/temp_tree.h"

namespace ferry::probe {
namespace {

using ferry::testing::MakeDirs;
using ferry::testing::TempDir;
using ferry::testing::WriteFile;

void SetMtime(const std::string& p, int64_t sec) {
  struct timespec ts[2] = {{0, UTIME_OMIT}, {sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << p;
}

// 40 files in 4 directories, 1,000 + i bytes each; files 0..9 modified now,
// the rest 3 days ago; a symlink and an empty directory.
struct Generated {
  TempDir tmp;
  std::string src;
  uint64_t bytes = 0, recent_bytes = 0;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  Generated() {
    src = tmp / "src";
    for (int i = 0; i < 40; ++i) {
      std::string p = src + "/d" + std::to_string(i % 4) + "/f" + std::to_string(i);
      WriteFile(p, std::string(1000 + i, 'x'));
      bytes += 1000 + i;
      if (i < 10) recent_bytes += 1000 + i;
      else SetMtime(p, now - 3 * 86400);
    }
    MakeDirs(src + "/empty");
    EXPECT_EQ(::symlink("d0/f0", (src + "/link").c_str()), 0);
  }
};

TEST(TreeEstimateTest, CountsAGeneratedTreeExactly) {
  Generated g;
  auto c = CountTree(g.src, g.now + 1, 86400);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->files, 40u);
  EXPECT_EQ(c->bytes, g.bytes);
  EXPECT_EQ(c->dirs, 5u);
  EXPECT_EQ(c->entries, 46u);  // 40 files, 5 dirs, 1 symlink
  EXPECT_EQ(c->recent_files, 10u);
  EXPECT_EQ(c->recent_bytes, g.recent_bytes);
  EXPECT_EQ(c->window_seconds, 86400);
  EXPECT_GE(c->scan_seconds, 0);
}

TEST(TreeEstimateTest, MissingRootIsAnErrorNamingIt) {
  TempDir tmp;
  auto c = CountTree(tmp / "nope", 0, 86400);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(tmp / "nope"), std::string::npos);
}

TEST(TreeEstimateTest, PlanPassCountsWhatTheNextPassWouldSendAndChangesNothing) {
  Generated g;
  std::string dst = g.tmp / "dst";
  auto first = PlanPass(g.src + "/", dst + "/", 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->files, 40u);
  EXPECT_EQ(first->bytes, g.bytes);
  struct stat st;
  EXPECT_NE(::lstat(dst.c_str(), &st), 0) << "a dry run created DST";

  // Copy everything, then change two files: the next pass sends two.
  ASSERT_EQ(ferry::testing::Shell("cp -a " + g.src + "/. " + dst + "/"), 0);
  WriteFile(g.src + "/d1/f1", "changed");
  WriteFile(g.src + "/d2/f2", "changed too");
  auto next = PlanPass(g.src + "/", dst + "/", 2);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->files, 2u);
  EXPECT_EQ(next->bytes, 7u + 11u);
}

TEST(TreeEstimateTest, PredictionFollowsTheModel) {
  TreeCounts c;
  c.entries = 1100;
  c.files = 1000;
  c.bytes = 1000ull << 20;
  c.recent_files = 50;
  c.recent_bytes = 10ull << 20;
  c.window_seconds = 86400;
  c.scan_seconds = 2;
  MachineRates r{200.0 * (1 << 20), 100.0 * (1 << 20), 1000};
  auto p = Predict(c, nullptr, r);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // 1000 MiB at min(200, 100) MiB/s + 1100 entries at 1000/s.
  EXPECT_NEAR(p->stage_one_seconds, 10 + 1.1, 1e-9);
  EXPECT_EQ(p->delta_files, 50u);
  EXPECT_EQ(p->delta_bytes, 10ull << 20);
  EXPECT_NEAR(p->delta_seconds, 2 + 0.1 + 0.05, 1e-9);
  EXPECT_NEAR(p->changed_file_share, 0.05, 1e-12);
  EXPECT_NE(p->assumption.find("5.00% of files"), std::string::npos) << p->assumption;
  EXPECT_NE(p->assumption.find("last 24 h"), std::string::npos) << p->assumption;

  PassPlan plan{3, 3ull << 20, 0.5};
  auto q = Predict(c, &plan, r);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->delta_files, 3u);
  EXPECT_NEAR(q->delta_seconds, 0.5 + 0.03 + 0.003, 1e-9);
  EXPECT_NE(q->assumption.find("dry run against DST"), std::string::npos) << q->assumption;
}

TEST(TreeEstimateTest, PredictionRejectsRatesThatAreNotPositive) {
  TreeCounts c;
  EXPECT_FALSE(Predict(c, nullptr, MachineRates{0, 1, 1}).ok());
  EXPECT_FALSE(Predict(c, nullptr, MachineRates{1, NAN, 1}).ok());
  EXPECT_FALSE(Predict(c, nullptr, MachineRates{1, 1, -1}).ok());
  auto empty = Predict(c, nullptr, MachineRates{1, 1, 1});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->stage_one_seconds, 0);
  EXPECT_EQ(empty->changed_file_share, 0);
}

}  // namespace
}  // namespace ferry::probe
