// The progress line's view of a pass's counters (cli/render.h SampleOf).
#include "cli/render.h"

#include <gtest/gtest.h>

#include "cli/progress_estimator.h"

namespace ferry::cli {
namespace {

// A pulling client's receiver counts what it requests while the list still
// streams: until the pass is planned those are not its totals.
TEST(RenderTest, SampleHasTotalsOnlyOncePlanned) {
  SyncStats s;
  s.planned_files = 10;
  s.planned_bytes = 5000;
  s.transferred_files = 2;
  s.transferred_bytes = 1000;
  ProgressSample early = SampleOf(s, 1);
  EXPECT_EQ(early.total_files, 0u);
  EXPECT_EQ(early.total_bytes, 0u);
  EXPECT_EQ(early.done_files, 2u);
  EXPECT_EQ(early.done_bytes, 1000u);
  s.planned = true;
  ProgressSample late = SampleOf(s, 2);
  EXPECT_EQ(late.total_files, 10u);
  EXPECT_EQ(late.total_bytes, 5000u);
}

// Regression (resumed remote pull): a partial count taken for the attempt's
// plan made everything it lacked of the cut-off attempt's totals "done".
TEST(RenderTest, ASeededPassCountsNothingDoneBeforeItsOwnPlan) {
  SyncStats s;
  ProgressEstimator e(/*file_cost_bytes=*/0);
  e.Seed(40000, 400);
  s.planned_files = 10;  // the list is still streaming
  s.planned_bytes = 1000;
  ProgressView v = e.Update(SampleOf(s, 0.1));
  EXPECT_EQ(v.done_files, 0u);
  EXPECT_EQ(v.done_bytes, 0u);
  s.planned_files = 340;  // the whole list: 60 files landed before
  s.planned_bytes = 34000;
  s.planned = true;
  v = e.Update(SampleOf(s, 0.2));
  EXPECT_EQ(v.done_files, 60u);
  EXPECT_EQ(v.done_bytes, 6000u);
  EXPECT_EQ(v.total_files, 400u);
}

}  // namespace
}  // namespace ferry::cli
