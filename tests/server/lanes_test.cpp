// The storage threads (lanes.hpp): a lane runs its jobs in order, one at a
// time; lanes run side by side; wait_idle waits for jobs and the jobs they post.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <vector>

#include "lanes.hpp"

namespace parley::server {
namespace {

TEST(Lanes, ALaneRunsItsJobsInOrderOneAtATime) {
  Lanes threads(4);
  auto lane = threads.make_lane();
  std::vector<int> seen;  // no lock: the lane's jobs never overlap (TSan would say otherwise)
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  for (int i = 0; i < 2000; ++i) {
    lane->post([&, i] {
      if (running.fetch_add(1) != 0) overlapped = true;
      seen.push_back(i);
      running.fetch_sub(1);
    });
  }
  threads.wait_idle();
  EXPECT_FALSE(overlapped);
  ASSERT_EQ(seen.size(), 2000u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], i);
}

TEST(Lanes, AStalledLaneDoesNotHoldUpAnother) {
  Lanes threads(2);
  auto stalled = threads.make_lane();
  auto other = threads.make_lane();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> second_ran;
  stalled->post([released] { released.wait(); });
  stalled->post([] {});  // queued behind the stalled job
  other->post([&] { second_ran.set_value(); });
  // The other lane's job runs while the first lane is stalled (a deadlock
  // here would hang the test: the promise is only released after).
  second_ran.get_future().wait();
  release.set_value();
  threads.wait_idle();
}

TEST(Lanes, WaitIdleWaitsForJobsPostedByJobs) {
  Lanes threads(2);
  auto lane = threads.make_lane();
  std::atomic<int> done{0};
  lane->post([&] {
    threads.post([&] {
      lane->post([&] { ++done; });
      ++done;
    });
    ++done;
  });
  threads.wait_idle();
  EXPECT_EQ(done.load(), 3);
}

TEST(Lanes, WithoutThreadsJobsRunAtOnce) {
  Lanes lanes(0);
  int n = 0;
  lanes.make_lane()->post([&] { ++n; });
  lanes.post([&] { ++n; });
  EXPECT_EQ(n, 2);
}

}  // namespace
}  // namespace parley::server
