// ReserveDescriptorTable: the table is sized up front (no growth, with its
// RCU wait, once threads run), within the soft limit, and nothing stays open.
#include "engine/base/fd_limit.h"

#include <dirent.h>
#include <sys/resource.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace ferry {
namespace {

// The descriptor table's size (FDSize in /proc/self/status).
int TableSize() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("FDSize:", 0) == 0) return std::stoi(line.substr(7));
  }
  return -1;
}

int OpenCount() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

class DescriptorTable : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &start_), 0); }
  void TearDown() override { ::setrlimit(RLIMIT_NOFILE, &start_); }
  struct rlimit start_ {};
};

TEST_F(DescriptorTable, IsSizedForTheReservedCountAndLeavesNothingOpen) {
  if (start_.rlim_max != RLIM_INFINITY && start_.rlim_max < 2048) GTEST_SKIP() << "hard limit";
  struct rlimit rl = start_;
  rl.rlim_cur = 2048;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  if (TableSize() >= 1024) GTEST_SKIP() << "the table is that large already";
  const int open_before = OpenCount();
  ReserveDescriptorTable(1024);
  EXPECT_GE(TableSize(), 1024);
  EXPECT_EQ(OpenCount(), open_before);
}

TEST_F(DescriptorTable, StaysWithinTheSoftLimit) {
  if (start_.rlim_max != RLIM_INFINITY && start_.rlim_max < 200) GTEST_SKIP() << "hard limit";
  struct rlimit rl = start_;
  rl.rlim_cur = 200;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  const int open_before = OpenCount();
  ReserveDescriptorTable(1024);
  EXPECT_LE(TableSize(), 256);  // sized for descriptor 199, not 1023
  EXPECT_EQ(OpenCount(), open_before);
}

}  // namespace
}  // namespace ferry
