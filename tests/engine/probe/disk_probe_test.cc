// The disk probes measure something real and clean up after themselves.
#include "engine/probe/disk_probe.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/testing/temp_tree.h"

namespace ferry::probe {
namespace {

using ferry::testing::TempDir;
using ferry::testing::WriteFile;

int CountEntries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  ::closedir(d);
  return n;
}

bool PositiveFinite(double v) { return std::isfinite(v) && v > 0; }

TEST(DiskProbeTest, SequentialRatesArePositiveAndTheFileIsRemoved) {
  TempDir tmp;
  WriteFile(tmp / "existing", "kept");
  auto io = io::MakeBackend(io::BackendKind::kPosix);
  ASSERT_TRUE(io.ok());
  auto r = MeasureSequential(**io, tmp.path(), 3 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bytes, 3u << 20);
  EXPECT_TRUE(PositiveFinite(r->write_bps)) << r->write_bps;
  EXPECT_TRUE(PositiveFinite(r->read_bps)) << r->read_bps;
  EXPECT_TRUE(r->method == "O_DIRECT" || r->method == "fdatasync+fadvise") << r->method;
  EXPECT_EQ(CountEntries(tmp.path()), 1) << "the probe left its file behind";
}

TEST(DiskProbeTest, SizeIsRoundedUpToWholeRequests) {
  TempDir tmp;
  auto io = io::MakeBackend(io::BackendKind::kPosix);
  ASSERT_TRUE(io.ok());
  auto r = MeasureSequential(**io, tmp.path(), 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bytes, 1u << 20);
}

TEST(DiskProbeTest, MissingDirectoryIsAnErrorNamingIt) {
  TempDir tmp;
  auto io = io::MakeBackend(io::BackendKind::kPosix);
  ASSERT_TRUE(io.ok());
  auto r = MeasureSequential(**io, tmp / "nope", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(tmp / "nope"), std::string::npos) << r.status().message();
  auto c = MeasureCreateRate(tmp / "nope", 10, 100, 1);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(tmp / "nope"), std::string::npos) << c.status().message();
}

TEST(DiskProbeTest, CreateRateLandsEveryFileAndRemovesThem) {
  TempDir tmp;
  auto r = MeasureCreateRate(tmp.path(), 1001, 100, 2);  // two directories: 1,000 + 1
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files, 1001u);
  EXPECT_EQ(r->file_size, 100u);
  EXPECT_TRUE(PositiveFinite(r->files_per_s)) << r->files_per_s;
  EXPECT_NEAR(r->files_per_s * r->seconds, 1001, 1e-6);
  EXPECT_EQ(CountEntries(tmp.path()), 0) << "the probe left its tree behind";
}

TEST(DiskProbeTest, ZeroSizesAreRejected) {
  TempDir tmp;
  auto io = io::MakeBackend(io::BackendKind::kPosix);
  ASSERT_TRUE(io.ok());
  EXPECT_EQ(MeasureSequential(**io, tmp.path(), 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(MeasureCreateRate(tmp.path(), 0, 100, 1).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::probe
