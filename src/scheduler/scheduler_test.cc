#include "scheduler/scheduler.h"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <set>

#include "gtest/gtest.h"

namespace serval {
namespace {

// Completes batches when the test says so; records what ran where.
class FakeExecutor : public BatchExecutor {
 public:
  explicit FakeExecutor(size_t instances, bool hold = false)
      : instances_(instances), hold_(hold) {}
  size_t instance_count() const override { return instances_; }
  BatchResult Execute(size_t instance, std::span<PendingPtr> batch) override {
    std::unique_lock<std::mutex> lock(mu_);
    batch_sizes_.push_back(batch.size());
    instances_used_.insert(instance);
    for (auto& r : batch) {
      // A request tagged "bad" fails alone, as batch_request_fail does.
      if (r->request.id == "bad") {
        r->response.status = absl::InvalidArgumentError("bad request");
        continue;
      }
      OutputTensor out;
      out.name = "OUT";
      out.datatype = DataType::kInt64;
      out.shape = {1};
      out.data.Resize(8);
      int64_t seq = static_cast<int64_t>(r->sequence);
      std::memcpy(out.data.data(), &seq, 8);
      r->response.outputs.push_back(std::move(out));
    }
    ++running_;
    cv_.notify_all();
    if (hold_) cv_.wait(lock, [&] { return released_ > 0 || release_all_; });
    if (released_ > 0) --released_;
    --running_;
    return {absl::OkStatus(), BatchTimes{1, 2, 3, 4}};
  }
  void WaitRunning(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return running_ >= n; });
  }
  void Release(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    released_ += n;
    cv_.notify_all();
  }
  void ReleaseAll() {
    std::lock_guard<std::mutex> lock(mu_);
    release_all_ = true;
    cv_.notify_all();
  }
  std::vector<size_t> batch_sizes() {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_sizes_;
  }
  std::set<size_t> instances_used() {
    std::lock_guard<std::mutex> lock(mu_);
    return instances_used_;
  }

 private:
  size_t instances_;
  bool hold_;
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;
  int released_ = 0;
  bool release_all_ = false;
  std::vector<size_t> batch_sizes_;
  std::set<size_t> instances_used_;
};

// Owns every test request: records each response and the tag (the
// request id) of the request it answers, in delivery order.
struct Collector : RequestOwner {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<InferenceResponse> responses;
  std::vector<std::string> order;
  void Complete(PendingPtr r) override {
    std::lock_guard<std::mutex> lock(mu);
    responses.push_back(std::move(r->response));
    order.push_back(r->request.id);
    cv.notify_all();
  }
  void WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return responses.size() >= n; }));
  }
};

PendingPtr Req(Collector& owner, std::string tag) {
  auto r = std::make_unique<PendingRequest>();
  r->request.model_name = "m";
  r->request.id = std::move(tag);
  TensorView v;
  v.name = "IN";
  v.datatype = DataType::kFp32;
  v.shape = {1, 4};
  r->request.inputs.push_back(v);
  r->owner = &owner;
  return r;
}

SchedulerOptions Opts(int32_t max_batch, size_t queue = 100) {
  SchedulerOptions o;
  o.max_batch_size = max_batch;
  o.dynamic_batching = max_batch > 0;
  o.levels.push_back(QueuePolicy{queue});
  return o;
}

TEST(SchedulerTest, EveryRequestCompletesExactlyOnce) {
  StatisticsRecorder stats;
  auto exec = std::make_unique<FakeExecutor>(2);
  Collector c;
  {
    Scheduler s(Opts(4, /*queue=*/1000), std::move(exec), &stats);
    for (int i = 0; i < 200; ++i) s.Enqueue(Req(c, "r"));
    c.WaitFor(200);
  }
  EXPECT_EQ(c.responses.size(), 200u);
  for (auto& r : c.responses) EXPECT_TRUE(r.status.ok()) << r.status;
  auto snap = stats.Snapshot("m", "1");
  EXPECT_EQ(snap.inference_stats.success.count, 200u);
  EXPECT_EQ(snap.inference_count, 200u);
}

TEST(SchedulerTest, ARequestFailedAloneKeepsItsErrorInAGoodBatch) {
  StatisticsRecorder stats;
  auto exec = std::make_unique<FakeExecutor>(1, /*hold=*/true);
  FakeExecutor* fake = exec.get();
  Collector c;
  Scheduler s(Opts(8), std::move(exec), &stats);
  s.Enqueue(Req(c, "first"));
  fake->WaitRunning(1);
  s.Enqueue(Req(c, "good"));
  s.Enqueue(Req(c, "bad"));
  fake->ReleaseAll();
  c.WaitFor(3);
  EXPECT_EQ(fake->batch_sizes(), (std::vector<size_t>{1, 2}));
  std::lock_guard<std::mutex> lock(c.mu);
  for (size_t i = 0; i < 3; ++i) {
    if (c.order[i] == "bad") {
      EXPECT_EQ(c.responses[i].status.code(),
                absl::StatusCode::kInvalidArgument);
    } else {
      EXPECT_TRUE(c.responses[i].status.ok()) << c.order[i];
    }
  }
  auto snap = stats.Snapshot("m", "1");
  EXPECT_EQ(snap.inference_stats.success.count, 2u);
  EXPECT_EQ(snap.inference_stats.fail.count, 1u);
}

TEST(SchedulerTest, QueuedRequestsAreBatchedWhileTheInstanceIsBusy) {
  StatisticsRecorder stats;
  auto exec = std::make_unique<FakeExecutor>(1, /*hold=*/true);
  FakeExecutor* fake = exec.get();
  Collector c;
  Scheduler s(Opts(8), std::move(exec), &stats);
  s.Enqueue(Req(c, "first"));
  fake->WaitRunning(1);  // the only instance is now busy
  for (int i = 0; i < 5; ++i) s.Enqueue(Req(c, "queued"));
  fake->ReleaseAll();
  c.WaitFor(6);
  auto sizes = fake->batch_sizes();
  ASSERT_EQ(sizes.size(), 2u);
  EXPECT_EQ(sizes[0], 1u);
  EXPECT_EQ(sizes[1], 5u);
  auto snap = stats.Snapshot("m", "1");
  EXPECT_EQ(snap.execution_count, 2u);
  ASSERT_EQ(snap.batch_stats.size(), 2u);
  EXPECT_EQ(snap.batch_stats[1].batch_size, 5u);
}

TEST(SchedulerTest, FullQueueFailsFastWhileAdmittedRequestsSucceed) {
  StatisticsRecorder stats;
  auto exec = std::make_unique<FakeExecutor>(1, /*hold=*/true);
  FakeExecutor* fake = exec.get();
  Collector c;
  Scheduler s(Opts(0, /*queue=*/3), std::move(exec), &stats);
  s.Enqueue(Req(c, "running"));
  fake->WaitRunning(1);
  for (int i = 0; i < 10; ++i) s.Enqueue(Req(c, "x"));
  c.WaitFor(7);  // 7 rejected at once, without the instance moving
  {
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto& r : c.responses) {
      EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
    }
  }
  fake->ReleaseAll();
  c.WaitFor(11);
  int ok = 0;
  for (auto& r : c.responses) ok += r.status.ok();
  EXPECT_EQ(ok, 4);
}

TEST(SchedulerTest, OverloadedTellsAheadWhenAnEnqueueWouldBeRefused) {
  StatisticsRecorder stats;
  auto exec = std::make_unique<FakeExecutor>(1, /*hold=*/true);
  FakeExecutor* fake = exec.get();
  Collector c;
  Scheduler s(Opts(0, /*queue=*/2), std::move(exec), &stats);
  EXPECT_FALSE(s.Overloaded());
  s.Enqueue(Req(c, "running"));
  fake->WaitRunning(1);
  s.Enqueue(Req(c, "q1"));
  EXPECT_FALSE(s.Overloaded());
  s.Enqueue(Req(c, "q2"));
  EXPECT_TRUE(s.Overloaded());  // the next Enqueue would get UNAVAILABLE
  fake->ReleaseAll();
  c.WaitFor(3);
  EXPECT_FALSE(s.Overloaded());
}

TEST(SchedulerTest, PreserveOrderingDeliversInArrivalOrder) {
  StatisticsRecorder stats;
  auto exec = std::make_unique<FakeExecutor>(2, /*hold=*/true);
  FakeExecutor* fake = exec.get();
  SchedulerOptions o = Opts(0);
  o.preserve_ordering = true;
  Collector c;
  Scheduler s(o, std::move(exec), &stats);
  s.Enqueue(Req(c, "a"));
  s.Enqueue(Req(c, "b"));
  fake->WaitRunning(2);  // both instances busy, one request each
  fake->Release(1);      // whichever finishes first...
  fake->ReleaseAll();
  c.WaitFor(2);
  EXPECT_EQ(c.order, (std::vector<std::string>{"a", "b"}));
}

TEST(SchedulerTest, WorkIsSpreadOverInstances) {
  StatisticsRecorder stats;
  auto exec = std::make_unique<FakeExecutor>(3, /*hold=*/true);
  FakeExecutor* fake = exec.get();
  Collector c;
  Scheduler s(Opts(0), std::move(exec), &stats);
  for (int i = 0; i < 3; ++i) s.Enqueue(Req(c, "r"));
  fake->WaitRunning(3);  // three requests run at once, one per instance
  EXPECT_EQ(fake->instances_used().size(), 3u);
  fake->ReleaseAll();
  c.WaitFor(3);
}

TEST(SchedulerTest, StopRunsQueuedRequestsAndRefusesNewOnes) {
  StatisticsRecorder stats;
  auto exec = std::make_unique<FakeExecutor>(1, /*hold=*/true);
  FakeExecutor* fake = exec.get();
  Collector c;
  Scheduler s(Opts(0), std::move(exec), &stats);
  s.Enqueue(Req(c, "r"));
  fake->WaitRunning(1);
  s.Enqueue(Req(c, "r"));
  auto stopped = std::async(std::launch::async, [&] { s.Stop(); });
  fake->ReleaseAll();
  stopped.get();
  c.WaitFor(2);
  for (auto& r : c.responses) EXPECT_TRUE(r.status.ok());
  s.Enqueue(Req(c, "late"));
  c.WaitFor(3);
  EXPECT_EQ(c.responses.back().status.code(), absl::StatusCode::kUnavailable);
}

TEST(SchedulerTest, RequestsPastTheirTimeoutOnTheInjectedClockAreDropped) {
  // Time is the fake clock's: the timeout passes without the test sleeping.
  FakeClock clock;
  StatisticsRecorder stats;
  auto exec = std::make_unique<FakeExecutor>(1, /*hold=*/true);
  FakeExecutor* fake = exec.get();
  Collector c;
  Scheduler s(Opts(0), std::move(exec), &stats, &clock);
  s.Enqueue(Req(c, "running"));
  fake->WaitRunning(1);
  auto late = Req(c, "late");
  late->request.timeout_us = 1000;
  s.Enqueue(std::move(late));
  clock.Advance(2'000'000);  // 2 ms later on the scheduler's clock
  fake->ReleaseAll();
  c.WaitFor(2);
  std::lock_guard<std::mutex> lock(c.mu);
  ASSERT_EQ(c.order, (std::vector<std::string>{"running", "late"}));
  EXPECT_TRUE(c.responses[0].status.ok());
  EXPECT_EQ(c.responses[1].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(c.responses[1].status.message().find("timed out"),
            std::string::npos)
      << c.responses[1].status;
  EXPECT_EQ(fake->batch_sizes().size(), 1u);  // never executed
}

}  // namespace
}  // namespace serval
