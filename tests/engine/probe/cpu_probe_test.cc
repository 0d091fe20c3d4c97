// The CPU probes run each kernel and report positive, finite throughput; the
// zstd sample compresses like text, not like noise or zeros.
#include "engine/probe/cpu_probe.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/probe/sample_data.h"

namespace ferry::probe {
namespace {

bool PositiveFinite(double v) { return std::isfinite(v) && v > 0; }

TEST(CpuProbeTest, EveryKernelHasAPositiveRate) {
  auto r = MeasureCpu(1 << 20, 0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(PositiveFinite(r->hash_bps));
  EXPECT_TRUE(PositiveFinite(r->delta_bps));
  EXPECT_TRUE(PositiveFinite(r->zstd_compress_bps));
  EXPECT_TRUE(PositiveFinite(r->zstd_decompress_bps));
  EXPECT_EQ(r->zstd_level, 3);
  EXPECT_GT(r->zstd_ratio, 2.0) << "sample data should compress like text";
  EXPECT_LT(r->zstd_ratio, 20.0) << "sample data should not compress like zeros";
  EXPECT_EQ(r->buffer_bytes, 1u << 20);
}

TEST(CpuProbeTest, EmptyBufferIsRejected) {
  EXPECT_EQ(MeasureCpu(0, 0).status().code(), ErrorCode::kInvalidArgument);
}

TEST(SampleDataTest, DeterministicAndEditedCopiesDiffer) {
  auto a = TextLikeData(100000, 5);
  EXPECT_EQ(a.size(), 100000u);
  EXPECT_EQ(a, TextLikeData(100000, 5));
  EXPECT_NE(a, TextLikeData(100000, 6));
  auto b = EditedCopy(a, 10);
  EXPECT_NE(a, b);
  EXPECT_NEAR(static_cast<double>(b.size()), 100000.0, 10 * 64.0);
}

}  // namespace
}  // namespace ferry::probe
