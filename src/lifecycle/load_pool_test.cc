#include "lifecycle/load_pool.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(LoadPoolTest, RunsTasksInParallelAndReturnsTheirStatusesInOrder) {
  LoadPool pool(3);
  std::atomic<int> running{0}, peak{0};
  std::vector<std::function<absl::Status()>> tasks;
  for (int i = 0; i < 6; ++i) {
    tasks.push_back([&, i]() -> absl::Status {
      int now = ++running;
      int p = peak.load();
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      --running;
      return i % 2 ? absl::InternalError(std::to_string(i)) : absl::OkStatus();
    });
  }
  auto statuses = pool.RunAllAndWait(std::move(tasks));
  ASSERT_EQ(statuses.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(statuses[i].ok(), i % 2 == 0) << i;
  }
  EXPECT_EQ(peak.load(), 3);
}

TEST(LoadPoolTest, RunAndWaitRunsOnAPoolThread) {
  LoadPool pool(1);
  std::thread::id ran_on;
  EXPECT_TRUE(pool.RunAndWait([&] {
                    ran_on = std::this_thread::get_id();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(LoadPoolTest, DestructorRunsWhatWasPosted) {
  std::atomic<int> done{0};
  {
    LoadPool pool(1);
    for (int i = 0; i < 5; ++i) pool.Post([&] { ++done; });
  }
  EXPECT_EQ(done.load(), 5);
}

}  // namespace
}  // namespace serval
