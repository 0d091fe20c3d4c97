// The receiver's lander thread (receiver_impl.h): files are installed in
// the order they are handed over, a failed install comes back with its
// Status, TakeFinished(wait) returns only when everything handed over is
// done, and Submit waits while `capacity` files are queued or installing.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "protocol/session/receiver_impl.h"

namespace ferry::protocol::receiver_internal {
namespace {

LandJob Job(uint32_t index) {
  LandJob j;
  j.f = std::make_unique<InFlight>();
  j.f->index = index;
  return j;
}

// `ps -L` and `top -H` tell the lander from the other threads.
TEST(Lander, JobsRunOnAThreadNamedAsGiven) {
  std::string name;
  Lander lander(
      [&](io::IoBackend&, LandJob&) {
        std::ifstream in("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
        std::getline(in, name);
        return Status::Ok();
      },
      1, nullptr, /*keep=*/true, "ferry-lander");
  lander.Submit(Job(0));
  ASSERT_EQ(lander.TakeFinished(/*wait=*/true).size(), 1u);
  EXPECT_EQ(name, "ferry-lander");
}

TEST(Lander, InstallsInOrderAndReturnsEveryResult) {
  std::mutex mu;
  std::vector<uint32_t> installed;
  Lander lander(
      [&](io::IoBackend&, LandJob& j) {
        std::lock_guard<std::mutex> l(mu);
        installed.push_back(j.f->index);
        return j.f->index % 3 == 0 ? Status(ErrorCode::kIo, "no space") : Status::Ok();
      },
      4);
  for (uint32_t i = 0; i < 50; ++i) lander.Submit(Job(i));
  std::vector<LandJob> done = lander.TakeFinished(/*wait=*/true);
  ASSERT_EQ(done.size(), 50u);
  for (uint32_t i = 0; i < 50; ++i) {
    EXPECT_EQ(done[i].f->index, i);
    EXPECT_EQ(done[i].status.ok(), i % 3 != 0) << i;
    EXPECT_EQ(installed[i], i);
  }
  EXPECT_TRUE(lander.idle());
  EXPECT_TRUE(lander.TakeFinished(false).empty());
}

TEST(Lander, SubmitWaitsForRoomAndTakeFinishedWaitsForAll) {
  std::promise<void> release;
  std::shared_future<void> go = release.get_future().share();
  std::atomic<int> started{0};
  Lander lander(
      [&](io::IoBackend&, LandJob&) {
        started++;
        go.wait();
        return Status::Ok();
      },
      2);
  lander.Submit(Job(0));
  lander.Submit(Job(1));
  // A third file must wait: two are queued or installing.
  auto third = std::async(std::launch::async, [&] { lander.Submit(Job(2)); });
  EXPECT_EQ(third.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_FALSE(lander.idle());
  EXPECT_TRUE(lander.TakeFinished(false).empty()) << "nothing finished yet";
  release.set_value();
  third.get();
  std::vector<LandJob> done = lander.TakeFinished(/*wait=*/true);
  EXPECT_EQ(done.size(), 3u);
  EXPECT_EQ(started.load(), 3);
}

// The flusher's hand-over (a writeback hint): never waits; a job that
// finds no room is dropped, and one handed over later runs.
TEST(Lander, TrySubmitRefusesWithoutWaitingWhenFull) {
  std::promise<void> release;
  std::shared_future<void> go = release.get_future().share();
  std::atomic<int> ran{0};
  Flusher flusher(
      [&](io::IoBackend&, FlushJob&) {
        go.wait();
        ran++;
        return Status::Ok();
      },
      2, nullptr, /*keep=*/false);
  EXPECT_TRUE(flusher.TrySubmit(FlushJob{}));
  EXPECT_TRUE(flusher.TrySubmit(FlushJob{}));
  auto third = std::async(std::launch::async, [&] { return flusher.TrySubmit(FlushJob{}); });
  ASSERT_EQ(third.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "TrySubmit waited for room";
  EXPECT_FALSE(third.get());
  release.set_value();
  (void)flusher.TakeFinished(/*wait=*/true);
  EXPECT_EQ(ran.load(), 2);
  EXPECT_TRUE(flusher.TrySubmit(FlushJob{}));
  (void)flusher.TakeFinished(/*wait=*/true);
  EXPECT_EQ(ran.load(), 3);
}

// Destroying a lander with files still queued installs them first (their
// data was verified) and then stops.
TEST(Lander, StoppingFinishesWhatWasHandedOver) {
  std::atomic<int> installed{0};
  {
    Lander lander(
        [&](io::IoBackend&, LandJob&) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          installed++;
          return Status::Ok();
        },
        8);
    for (uint32_t i = 0; i < 8; ++i) lander.Submit(Job(i));
  }
  EXPECT_EQ(installed.load(), 8);
}

// The signer's queue runs the smallest job first when it is given an order.
TEST(Lander, AnOrderPicksTheFirstQueuedJob) {
  std::promise<void> release;
  std::shared_future<void> go = release.get_future().share();
  std::vector<uint32_t> ran;
  Lander lander(
      [&](io::IoBackend&, LandJob& j) {
        go.wait();
        ran.push_back(j.f->index);
        return Status::Ok();
      },
      8, [](const LandJob& a, const LandJob& b) { return a.f->index < b.f->index; });
  // 9 starts at once and holds the thread while the rest queue up.
  for (uint32_t i : {9u, 5u, 7u, 1u, 3u}) lander.Submit(Job(i));
  release.set_value();
  std::vector<LandJob> done = lander.TakeFinished(/*wait=*/true);
  ASSERT_EQ(done.size(), 5u);
  ASSERT_EQ(ran.size(), 5u);
  // 9 may not have been taken before the others arrived: then it runs last.
  std::vector<uint32_t> rest;
  for (uint32_t i : ran) if (i != 9) rest.push_back(i);
  EXPECT_TRUE(ran.front() == 9 || ran.back() == 9);
  EXPECT_EQ(rest, (std::vector<uint32_t>{1, 3, 5, 7}));
  for (size_t i = 0; i < done.size(); ++i) EXPECT_EQ(done[i].f->index, ran[i]);
}

}  // namespace
}  // namespace ferry::protocol::receiver_internal
