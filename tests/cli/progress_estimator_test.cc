// The progress line's promises: nothing shown goes backwards, even when the
// totals are revised; the ETA is finite, non-negative and close to the truth
// at a steady rate.
#include "cli/progress_estimator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace ferry::cli {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

ProgressSample At(double t, uint64_t done_b, uint64_t total_b, uint64_t done_f = 0,
                  uint64_t total_f = 0) {
  ProgressSample s;
  s.elapsed = t;
  s.done_bytes = done_b;
  s.total_bytes = total_b;
  s.done_files = done_f;
  s.total_files = total_f;
  return s;
}

void ExpectSane(const ProgressView& v) {
  EXPECT_LE(v.done_bytes, v.total_bytes);
  EXPECT_LE(v.done_files, v.total_files);
  EXPECT_GE(v.percent, 0);
  EXPECT_LE(v.percent, 100);
  EXPECT_TRUE(std::isfinite(v.rate));
  EXPECT_GE(v.rate, 0);
  EXPECT_TRUE(std::isfinite(v.eta));
  EXPECT_TRUE(v.eta >= 0 || v.eta == -1) << v.eta;
}

TEST(ProgressEstimatorTest, GrownTotalHoldsThePercentageInsteadOfJumpingBack) {
  ProgressEstimator e(/*file_cost_bytes=*/0);
  ProgressView a = e.Update(At(1, 50, 100));
  EXPECT_DOUBLE_EQ(a.percent, 50);
  // A file grew: the total doubles; 50/200 would be 25%.
  ProgressView b = e.Update(At(2, 60, 200));
  EXPECT_EQ(b.total_bytes, 200u);
  EXPECT_EQ(b.done_bytes, 60u);
  EXPECT_DOUBLE_EQ(b.percent, 50);
  ProgressView c = e.Update(At(3, 150, 200));
  EXPECT_DOUBLE_EQ(c.percent, 75);
}

TEST(ProgressEstimatorTest, ShrunkTotalOrRecountedDoneNeverMovesBackwards) {
  ProgressEstimator e(0);
  ProgressView a = e.Update(At(1, 80, 100, 8, 10));
  // A file vanished (total drops) and a retried file's bytes were recounted
  // lower: neither shows.
  ProgressView b = e.Update(At(2, 70, 90, 7, 9));
  EXPECT_EQ(b.done_bytes, a.done_bytes);
  EXPECT_EQ(b.total_bytes, a.total_bytes);
  EXPECT_EQ(b.done_files, a.done_files);
  EXPECT_EQ(b.total_files, a.total_files);
  EXPECT_GE(b.percent, a.percent);
  EXPECT_LT(b.percent, 100) << "100% before the pass is over";
  ProgressSample end = At(3, 90, 90, 9, 9);
  end.finished = true;
  ProgressView c = e.Update(end);
  EXPECT_DOUBLE_EQ(c.percent, 100);
  EXPECT_DOUBLE_EQ(c.eta, 0);
}

TEST(ProgressEstimatorTest, RandomRevisionsNeverGoBackwards) {
  std::mt19937_64 rng(7);
  for (int run = 0; run < 50; ++run) {
    ProgressEstimator e(rng() % 2 ? 64 * 1024 : 0, 1 + static_cast<double>(rng() % 20));
    ProgressView last;
    uint64_t done = 0, total = 1000 + rng() % 100000, files = 0, tfiles = 1 + rng() % 50;
    double t = 0;
    for (int i = 0; i < 300; ++i) {
      t += static_cast<double>(rng() % 400) / 1000.0;
      done += rng() % 2000;
      if (rng() % 10 == 0) total += rng() % 50000;                       // grew
      if (rng() % 10 == 0) total -= std::min<uint64_t>(total, rng() % 5000);  // vanished
      if (rng() % 7 == 0) done -= std::min<uint64_t>(done, rng() % 3000);     // recount
      if (rng() % 3 == 0) ++files;
      if (rng() % 20 == 0) tfiles += rng() % 5;
      ProgressView v = e.Update(At(t, done, total, files, tfiles));
      SCOPED_TRACE("run " + std::to_string(run) + " step " + std::to_string(i));
      ExpectSane(v);
      EXPECT_GE(v.done_bytes, last.done_bytes);
      EXPECT_GE(v.total_bytes, last.total_bytes);
      EXPECT_GE(v.done_files, last.done_files);
      EXPECT_GE(v.total_files, last.total_files);
      EXPECT_GE(v.percent, last.percent);
      last = v;
    }
  }
}

TEST(ProgressEstimatorTest, EtaMatchesASteadyRate) {
  // 1 GiB at 10 MiB/s: after 20 s, 80 s remain (about 82.4 s exactly).
  ProgressEstimator e(0, 10);
  const double total = 1024 * kMiB, rate = 10 * kMiB;
  ProgressView v;
  for (double t = 0; t <= 20.0001; t += 0.2)
    v = e.Update(At(t, static_cast<uint64_t>(rate * t), static_cast<uint64_t>(total)));
  double truth = (total - rate * 20) / rate;
  EXPECT_NEAR(v.eta, truth, truth * 0.02);
  EXPECT_NEAR(v.rate, rate, rate * 0.02);
}

TEST(ProgressEstimatorTest, EtaFollowsTheCurrentRateNotTheAverage) {
  ProgressEstimator e(0, 5);
  const uint64_t total = 2000 * static_cast<uint64_t>(kMiB);
  double done = 0, t = 0;
  ProgressView v;
  // 30 s at 20 MiB/s, then 30 s at 5 MiB/s (the disk got busy).
  for (; t < 30; t += 0.2) v = e.Update(At(t, static_cast<uint64_t>(done += 4 * kMiB), total));
  for (; t < 60; t += 0.2) v = e.Update(At(t, static_cast<uint64_t>(done += 1 * kMiB), total));
  double truth = (static_cast<double>(total) - done) / (5 * kMiB);
  EXPECT_NEAR(v.eta, truth, truth * 0.05);
}

TEST(ProgressEstimatorTest, SmallFilesCountAsWork) {
  // 10,000 empty files: bytes alone would say 0% all along.
  ProgressEstimator e;
  ProgressView v = e.Update(At(1, 0, 0, 2500, 10000));
  EXPECT_NEAR(v.percent, 25, 1e-9);
  v = e.Update(At(2, 0, 0, 5000, 10000));
  EXPECT_NEAR(v.percent, 50, 1e-9);
  EXPECT_NEAR(v.eta, 2, 0.01);
}

TEST(ProgressEstimatorTest, UnknownEtaWhileStalledOrTooEarly) {
  ProgressEstimator e(0, 2);
  EXPECT_EQ(e.Update(At(0, 0, 1000)).eta, -1) << "no rate yet";
  EXPECT_EQ(e.Update(At(0.1, 10, 1000)).eta, -1) << "a 0.1 s span is noise";
  ProgressView v;
  for (double t = 0.2; t < 10; t += 0.5) v = e.Update(At(t, 10, 1000));
  EXPECT_EQ(v.rate, 0);
  EXPECT_EQ(v.eta, -1);
  ExpectSane(v);
}

TEST(ProgressEstimatorTest, NothingToDoIsComplete) {
  ProgressEstimator e;
  ProgressView v = e.Update(At(0, 0, 0, 0, 0));
  EXPECT_DOUBLE_EQ(v.percent, 100);
  EXPECT_DOUBLE_EQ(v.eta, 0);
}

// A resumed plan pass: the cut-off attempt planned 100 MiB in 10 files and
// landed 60 MiB in 6 before it was killed; this attempt plans only the rest.
TEST(ProgressEstimatorTest, SeededTotalsOfACutOffAttemptCountWhatLandedAsDone) {
  ProgressEstimator e(/*file_cost_bytes=*/0);
  e.Seed(static_cast<uint64_t>(100 * kMiB), 10);
  // Still scanning (no totals of its own yet): 0 of the previous totals.
  ProgressView scan = e.Update(At(0, 0, 0));
  EXPECT_EQ(scan.total_bytes, static_cast<uint64_t>(100 * kMiB));
  EXPECT_EQ(scan.total_files, 10u);
  EXPECT_EQ(scan.done_bytes, 0u);
  ExpectSane(scan);
  // Planned: 40 MiB in 4 files left; the 60 MiB already landed are done.
  ProgressView a = e.Update(At(0.2, 0, static_cast<uint64_t>(40 * kMiB), 0, 4));
  EXPECT_EQ(a.total_bytes, static_cast<uint64_t>(100 * kMiB));
  EXPECT_EQ(a.done_bytes, static_cast<uint64_t>(60 * kMiB));
  EXPECT_EQ(a.done_files, 6u);
  EXPECT_EQ(a.total_files, 10u);
  EXPECT_NEAR(a.percent, 60, 1e-9);
  ExpectSane(a);
  // One second in at 10 MiB/s: 30 MiB left, an ETA of 3 s.
  ProgressView b = e.Update(At(1.2, static_cast<uint64_t>(10 * kMiB),
                               static_cast<uint64_t>(40 * kMiB), 1, 4));
  EXPECT_EQ(b.done_bytes, static_cast<uint64_t>(70 * kMiB));
  EXPECT_EQ(b.done_files, 7u);
  EXPECT_NEAR(b.eta, 3.0, 0.01);
  ExpectSane(b);
  ProgressView c = e.Update(At(4.2, static_cast<uint64_t>(40 * kMiB),
                               static_cast<uint64_t>(40 * kMiB), 4, 4));
  EXPECT_EQ(c.done_bytes, c.total_bytes);
  EXPECT_EQ(c.done_files, 10u);
  EXPECT_NEAR(c.percent, 100, 1e-9);
}

TEST(ProgressEstimatorTest, SeedSmallerThanThisAttemptsPlanIsOnlyAFloor) {
  ProgressEstimator e(/*file_cost_bytes=*/0);
  e.Seed(1000, 2);  // the source grew since the cut-off attempt
  ProgressView v = e.Update(At(1, 100, 5000, 1, 5));
  EXPECT_EQ(v.total_bytes, 5000u);
  EXPECT_EQ(v.done_bytes, 100u);
  EXPECT_EQ(v.total_files, 5u);
  ExpectSane(v);
}

TEST(ProgressEstimatorTest, FormatEta) {
  EXPECT_EQ(FormatEta(-1), "--:--:--");
  EXPECT_EQ(FormatEta(0), "0:00:00");
  EXPECT_EQ(FormatEta(3725), "1:02:05");
  EXPECT_EQ(FormatEta(std::nan("")), "--:--:--");
}

}  // namespace
}  // namespace ferry::cli
