#include "common/executor.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(ThreadPoolTest, RunsAsManyTasksAtOnceAsItHasThreads) {
  // Every task waits until three are running together, so the run only
  // completes if the pool really runs three at once (no timing involved;
  // the wait gives up after 10 s so a broken pool fails instead of hanging).
  ThreadPool pool(3);
  absl::Mutex mu;
  int running = 0;
  bool all_three = false;
  std::vector<absl::AnyInvocable<absl::Status() &&>> tasks;
  for (int i = 0; i < 6; ++i) {
    tasks.push_back([&, i]() -> absl::Status {
      absl::MutexLock lock(&mu);
      if (++running == 3) all_three = true;
      const bool met =
          mu.AwaitWithTimeout(absl::Condition(&all_three), absl::Seconds(10));
      --running;
      if (!met) return absl::DeadlineExceededError("never three at once");
      return i % 2 ? absl::InternalError(std::to_string(i)) : absl::OkStatus();
    });
  }
  auto statuses = RunAllAndWait(pool, std::move(tasks));
  ASSERT_EQ(statuses.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(statuses[i].code(),
              i % 2 ? absl::StatusCode::kInternal : absl::StatusCode::kOk)
        << i << ": " << statuses[i];
  }
}

TEST(ThreadPoolTest, RunAndWaitRunsOnAPoolThread) {
  ThreadPool pool(1);
  std::thread::id ran_on;
  EXPECT_TRUE(RunAndWait(pool, [&] {
                ran_on = std::this_thread::get_id();
                return absl::OkStatus();
              }).ok());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(ThreadPoolTest, DrainWaitsForEverythingPostedBefore) {
  ThreadPool pool(2);
  std::atomic<int> done{0};
  for (int i = 0; i < 50; ++i) pool.Post([&] { ++done; });
  pool.Drain();
  EXPECT_EQ(done.load(), 50);
}

TEST(ThreadPoolTest, ShutdownRunsWhatWasQueuedAndLaterPostsRunInline) {
  std::atomic<int> done{0};
  ThreadPool pool(1);
  for (int i = 0; i < 5; ++i) pool.Post([&] { ++done; });
  pool.Shutdown();
  EXPECT_EQ(done.load(), 5);
  std::thread::id ran_on;
  pool.Post([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(InlineExecutorTest, RunsAtOnce) {
  InlineExecutor inline_executor;
  int n = 0;
  inline_executor.Post([&] { ++n; });
  EXPECT_EQ(n, 1);
  EXPECT_EQ(RunAndWait(inline_executor, [] { return absl::AbortedError("x"); })
                .code(),
            absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace serval
