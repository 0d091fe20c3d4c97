// What `ps -L` / `top -H` show for a named thread.
#include "engine/base/thread_name.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace ferry {
namespace {

// The calling thread's name as the kernel reports it.
std::string OwnName() {
  std::ifstream in("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

TEST(ThreadName, TheKernelReportsTheName) {
  std::string seen;
  std::thread([&] {
    SetThreadName("ferry-lander");
    seen = OwnName();
  }).join();
  EXPECT_EQ(seen, "ferry-lander");
}

TEST(ThreadName, ALongNameIsCutToFifteenCharactersNotRefused) {
  std::string seen;
  std::thread([&] {
    SetThreadName("ferry-a-very-long-thread-name");
    seen = OwnName();
  }).join();
  EXPECT_EQ(seen, "ferry-a-very-lo");
}

}  // namespace
}  // namespace ferry
