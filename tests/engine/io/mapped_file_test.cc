// MappedFile's guard: a file cut short by someone else while it is mapped
// reads as zeros past its new end instead of killing the process with
// SIGBUS, and torn() says so; an untouched file is not torn; a SIGBUS of a
// mapping that is not guarded still goes to the previous disposition and
// ends the process.
#include "engine/io/mapped_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/temp_tree.h"

namespace ferry::io {
namespace {

using ferry::testing::TempDir;

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!MappedFile::Guarded()) GTEST_SKIP() << "SIGBUS is handled by someone else here";
    page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    path_ = tmp_.path() + "/f";
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT, 0600);
    ASSERT_GE(fd_, 0);
    data_.resize(8 * page_ + 100);
    for (size_t i = 0; i < data_.size(); ++i) data_[i] = static_cast<char>(1 + i % 251);
    ASSERT_EQ(::pwrite(fd_, data_.data(), data_.size(), 0), static_cast<ssize_t>(data_.size()));
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }

  TempDir tmp_;
  std::string path_;
  int fd_ = -1;
  size_t page_ = 4096;
  std::vector<char> data_;
};

TEST_F(MappedFileTest, AFileCutShortWhileMappedReadsAsZerosAndIsTorn) {
  MappedFile m;
  ASSERT_TRUE(m.Map(fd_, data_.size()).ok());
  EXPECT_FALSE(m.torn());
  const size_t cut = 2 * page_ + 10;  // inside the third page
  ASSERT_EQ(::ftruncate(fd_, static_cast<off_t>(cut)), 0);
  // Two threads read all of it (the matcher reads on several).
  std::vector<char> seen(data_.size());
  auto read = [&](size_t from, size_t to) {
    const auto* p = reinterpret_cast<const char*>(m.bytes().data());
    for (size_t i = from; i < to; ++i) seen[i] = p[i];
  };
  std::thread a(read, 0, data_.size() / 2);
  std::thread b(read, data_.size() / 2, data_.size());
  a.join();
  b.join();
  EXPECT_TRUE(m.torn());
  for (size_t i = 0; i < cut; ++i) ASSERT_EQ(seen[i], data_[i]) << i;
  // The rest of the page the file now ends in reads as the kernel zero-fills
  // it; every page past it is zeros from the guard.
  for (size_t i = 3 * page_; i < data_.size(); ++i) ASSERT_EQ(seen[i], 0) << i;
  m.Reset();
  EXPECT_FALSE(m.torn());
}

TEST_F(MappedFileTest, AnUntouchedFileIsNotTornAndSlotsAreReused) {
  for (int i = 0; i < 3 * kGuardSlots; ++i) {
    MappedFile m;
    ASSERT_TRUE(m.Map(fd_, data_.size()).ok());
    ASSERT_EQ(std::memcmp(m.bytes().data(), data_.data(), data_.size()), 0);
    ASSERT_FALSE(m.torn());
  }
  // A moved mapping keeps its guard.
  MappedFile m;
  ASSERT_TRUE(m.Map(fd_, data_.size()).ok());
  MappedFile moved = std::move(m);
  ASSERT_EQ(::ftruncate(fd_, static_cast<off_t>(page_)), 0);
  volatile char last = reinterpret_cast<const char*>(moved.bytes().data())[data_.size() - 1];
  EXPECT_EQ(last, 0);
  EXPECT_TRUE(moved.torn());
  EXPECT_TRUE(m.bytes().empty());
}

TEST_F(MappedFileTest, ASigbusOutsideGuardedMappingsStillEndsTheProcess) {
  EXPECT_EXIT(
      {
        void* p = ::mmap(nullptr, data_.size(), PROT_READ, MAP_SHARED, fd_, 0);
        if (p == MAP_FAILED) std::_Exit(3);
        if (::ftruncate(fd_, 0) != 0) std::_Exit(4);
        volatile char c = static_cast<const char*>(p)[5 * page_];
        (void)c;
        std::_Exit(0);
      },
      // SIGBUS itself, or the previous handler's way of ending (a sanitizer
      // reports, then aborts or exits 1): never back to the faulting code,
      // which would exit 0 (3 and 4: the set-up failed).
      [](int status) {
        if (WIFSIGNALED(status)) return true;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
        return code != 0 && code != 3 && code != 4;
      },
      "");
}

}  // namespace
}  // namespace ferry::io
