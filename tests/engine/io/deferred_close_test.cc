// DeferredClose: a descriptor handed to the helper keeps a deleted file
// alive in the helper (not in this process) until the object goes; then the
// helper closes it and exits. The helper holds nothing else of this
// process: not its stdio, not its other descriptors.
#include "engine/io/deferred_close.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/temp_tree.h"

namespace ferry::io {
namespace {

using ferry::testing::TempDir;

// The targets of process `pid`'s descriptors (empty once it has exited).
std::vector<std::string> FdTargets(pid_t pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code lec;
    const std::string target = std::filesystem::read_symlink(fd.path(), lec).string();
    if (!lec) out.push_back(target);
  }
  return out;
}

bool Holds(pid_t pid, const std::string& path) {
  for (const std::string& t : FdTargets(pid)) {
    if (t == path + " (deleted)") return true;
  }
  return false;
}

TEST(DeferredClose, TheHelperHoldsAHandedFileUntilTheObjectGoes) {
  TempDir tmp;
  const std::string path = tmp.path() + "/old";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "old copy", 8), 8);
  // Another descriptor of this process the helper must not keep.
  const std::string other = tmp.path() + "/other";
  int keep = ::open(other.c_str(), O_RDWR | O_CREAT, 0600);  // no O_CLOEXEC
  ASSERT_GE(keep, 0);

  auto d = DeferredClose::Start();
  ASSERT_TRUE(d.ok()) << d.status().message();
  const pid_t helper = (*d)->pid();
  ASSERT_GT(helper, 0);
  ASSERT_NE(helper, ::getpid());
  ASSERT_TRUE((*d)->Hand(fd));
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::close(fd), 0);  // no longer the last reference

  // The helper receives it (asynchronously): wait for it to show.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!Holds(helper, path) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(Holds(helper, path));
  EXPECT_EQ(ferry::testing::ReadFile("/proc/" + std::to_string(helper) + "/comm"),
            "ferry-deferred\n");
  for (const std::string& t : FdTargets(helper)) {
    EXPECT_EQ(t.find(other), std::string::npos) << t;
    EXPECT_EQ(t.find("/dev/pts"), std::string::npos) << t;
  }

  d->reset();
  while (Holds(helper, path) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(Holds(helper, path)) << "the helper still holds the old copy";
  ::close(keep);
}

TEST(DeferredClose, NoMoreThanKMaxHeldAreHanded) {
  TempDir tmp;
  int fd = ::open((tmp.path() + "/f").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  auto d = DeferredClose::Start();
  ASSERT_TRUE(d.ok()) << d.status().message();
  for (size_t i = 0; i < DeferredClose::kMaxHeld; ++i) ASSERT_TRUE((*d)->Hand(fd)) << i;
  EXPECT_FALSE((*d)->Hand(fd));
  EXPECT_FALSE((*d)->Hand(-1));
  ::close(fd);
}

}  // namespace
}  // namespace ferry::io
