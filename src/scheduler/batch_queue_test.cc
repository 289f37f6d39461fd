#include "scheduler/batch_queue.h"

#include <memory>

#include "common/status_map.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

constexpr uint64_t kUs = 1000;

// A request with one input of shape [batch, width].
PendingPtr Req(int64_t batch = 1, int64_t width = 4, uint32_t priority = 0,
               uint64_t timeout_us = 0) {
  auto r = std::make_unique<PendingRequest>();
  r->request.model_name = "m";
  r->request.priority = priority;
  r->request.timeout_us = timeout_us;
  TensorView v;
  v.name = "IN";
  v.datatype = DataType::kFp32;
  v.shape = {batch, width};
  r->request.inputs.push_back(v);
  r->batch_size = batch;
  return r;
}

SchedulerOptions Batching(int32_t max_batch, uint64_t delay_us = 0) {
  SchedulerOptions o;
  o.max_batch_size = max_batch;
  o.dynamic_batching = true;
  o.max_queue_delay_ns = delay_us * kUs;
  o.levels.push_back(QueuePolicy{100});
  return o;
}

void AddOk(BatchQueue& q, PendingPtr r, uint64_t now) {
  absl::Status s;
  ASSERT_EQ(q.Add(std::move(r), now, &s), nullptr) << s;
}

TEST(BatchQueueTest, FormsTheLargestBatchUpToMax) {
  BatchQueue q(Batching(4));
  for (int i = 0; i < 6; ++i) AddOk(q, Req(), 0);
  auto d = q.Next(0);
  EXPECT_EQ(d.batch.size(), 4u);
  auto d2 = q.Next(0);
  EXPECT_EQ(d2.batch.size(), 2u);  // delay 0: send what is there
  EXPECT_EQ(q.size(), 0u);
}

TEST(BatchQueueTest, CountsBatchItemsNotRequests) {
  BatchQueue q(Batching(8));
  AddOk(q, Req(3), 0);
  AddOk(q, Req(4), 0);
  AddOk(q, Req(2), 0);  // 3+4+2 > 8: waits for the next batch
  auto d = q.Next(0);
  ASSERT_EQ(d.batch.size(), 2u);
  EXPECT_EQ(d.batch[0]->batch_size + d.batch[1]->batch_size, 7);
  EXPECT_EQ(q.Next(0).batch.size(), 1u);
}

TEST(BatchQueueTest, WaitsForTheQueueDelayThenSendsAPartialBatch) {
  BatchQueue q(Batching(8, /*delay_us=*/500));
  AddOk(q, Req(), 100 * kUs);
  AddOk(q, Req(), 200 * kUs);
  auto d = q.Next(300 * kUs);
  EXPECT_TRUE(d.batch.empty());
  EXPECT_EQ(d.wake_at_ns, 600 * kUs);  // oldest arrival + delay
  EXPECT_EQ(q.size(), 2u);
  auto d2 = q.Next(600 * kUs);
  EXPECT_EQ(d2.batch.size(), 2u);
}

TEST(BatchQueueTest, FullBatchIsSentWithoutWaitingForTheDelay) {
  BatchQueue q(Batching(2, /*delay_us=*/1'000'000));
  AddOk(q, Req(), 0);
  AddOk(q, Req(), 0);
  EXPECT_EQ(q.Next(1).batch.size(), 2u);
}

TEST(BatchQueueTest, PreferredBatchSizeIsSentAtOnce) {
  SchedulerOptions o = Batching(8, /*delay_us=*/1'000'000);
  o.preferred_batch_sizes = {2, 4};
  BatchQueue q(o);
  AddOk(q, Req(), 0);
  EXPECT_TRUE(q.Next(0).batch.empty());  // 1 is not preferred: wait
  AddOk(q, Req(), 0);
  EXPECT_EQ(q.Next(0).batch.size(), 2u);
  for (int i = 0; i < 3; ++i) AddOk(q, Req(), 0);
  EXPECT_TRUE(q.Next(0).batch.empty());  // 3 is not preferred
  AddOk(q, Req(), 0);
  EXPECT_EQ(q.Next(0).batch.size(), 4u);  // the largest preferred size
}

TEST(BatchQueueTest, IncompatibleShapesAreNotBatchedTogether) {
  BatchQueue q(Batching(8));
  AddOk(q, Req(1, 4), 0);
  AddOk(q, Req(1, 4), 0);
  AddOk(q, Req(1, 5), 0);
  AddOk(q, Req(1, 4), 0);
  auto d = q.Next(0);
  ASSERT_EQ(d.batch.size(), 2u);  // stops at the first incompatible one
  auto d2 = q.Next(0);
  ASSERT_EQ(d2.batch.size(), 1u);
  EXPECT_EQ(d2.batch[0]->request.inputs[0].shape[1], 5);
  EXPECT_EQ(q.Next(0).batch.size(), 1u);
}

TEST(BatchQueueTest, ArrivalOrderIsKeptWithinALevel) {
  BatchQueue q(Batching(2));
  for (int i = 0; i < 4; ++i) AddOk(q, Req(), 0);
  auto a = q.Next(0), b = q.Next(0);
  EXPECT_EQ(a.batch[0]->sequence, 0u);
  EXPECT_EQ(a.batch[1]->sequence, 1u);
  EXPECT_EQ(b.batch[0]->sequence, 2u);
}

TEST(BatchQueueTest, NonBatchingModelRunsOneRequestAtATime) {
  SchedulerOptions o;
  o.max_batch_size = 0;
  o.levels.push_back(QueuePolicy{10});
  BatchQueue q(o);
  AddOk(q, Req(), 0);
  AddOk(q, Req(), 0);
  EXPECT_EQ(q.Next(0).batch.size(), 1u);
  EXPECT_EQ(q.Next(0).batch.size(), 1u);
}

TEST(BatchQueueTest, HigherPriorityGoesFirst) {
  SchedulerOptions o = Batching(1);
  o.levels = {QueuePolicy{10}, QueuePolicy{10}};
  o.default_level = 1;
  BatchQueue q(o);
  AddOk(q, Req(1, 4, /*priority=*/0), 0);  // default: level 2
  AddOk(q, Req(1, 4, /*priority=*/1), 0);
  auto d = q.Next(0);
  EXPECT_EQ(d.batch[0]->level, 0u);
  EXPECT_EQ(q.Next(0).batch[0]->level, 1u);
}

TEST(BatchQueueTest, PriorityOutOfRangeIsRejected) {
  BatchQueue q(Batching(4));
  absl::Status s;
  auto back = q.Add(Req(1, 4, /*priority=*/3), 0, &s);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("priority 3 is out of range"), std::string::npos);
}

TEST(BatchQueueTest, FullQueueRejectsWithUnavailable) {
  SchedulerOptions o = Batching(4);
  o.levels[0].max_queue_size = 2;
  BatchQueue q(o);
  AddOk(q, Req(), 0);
  AddOk(q, Req(), 0);
  absl::Status s;
  auto back = q.Add(Req(), 0, &s);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("queue is full"), std::string::npos);
  EXPECT_EQ(q.size(), 2u);
}

TEST(BatchQueueTest, TimeoutRejectDropsExpiredRequests) {
  SchedulerOptions o = Batching(4, /*delay_us=*/10'000);
  o.levels[0].default_timeout_us = 100;
  BatchQueue q(o);
  AddOk(q, Req(), 0);
  AddOk(q, Req(), 50 * kUs);
  auto d = q.Next(120 * kUs);  // the first expired at 100 us
  ASSERT_EQ(d.dropped.size(), 1u);
  EXPECT_EQ(d.dropped[0]->response.status.code(),
            absl::StatusCode::kUnavailable);
  EXPECT_NE(d.dropped[0]->response.status.message().find("timed out"),
            std::string::npos);
  EXPECT_EQ(q.size(), 1u);
  // The remaining request's deadline bounds the wait.
  EXPECT_EQ(d.wake_at_ns, 150 * kUs);
}

TEST(BatchQueueTest, TimeoutDelayMovesRequestsBehindOthers) {
  SchedulerOptions o = Batching(1);
  o.levels[0].default_timeout_us = 100;
  o.levels[0].timeout_action = TimeoutAction::kDelay;
  BatchQueue q(o);
  AddOk(q, Req(), 0);                           // will expire
  AddOk(q, Req(1, 4, 0, 1'000'000), 90 * kUs);  // long timeout? capped at 100us
  auto d = q.Next(150 * kUs);
  EXPECT_TRUE(d.dropped.empty());  // DELAY never drops
  ASSERT_EQ(d.batch.size(), 1u);
  EXPECT_EQ(d.batch[0]->sequence, 1u);  // the one still within its timeout
  EXPECT_EQ(q.Next(150 * kUs).batch[0]->sequence, 0u);
}

TEST(BatchQueueTest, RequestTimeoutShortensButDoesNotLengthenDefault) {
  SchedulerOptions o = Batching(4, 1'000'000);
  o.levels[0].default_timeout_us = 1000;
  BatchQueue q(o);
  AddOk(q, Req(1, 4, 0, /*timeout_us=*/10), 0);
  AddOk(q, Req(1, 4, 0, /*timeout_us=*/5000), 0);
  auto d = q.Next(20 * kUs);
  ASSERT_EQ(d.dropped.size(), 1u);
  EXPECT_EQ(d.dropped[0]->sequence, 0u);
  auto d2 = q.Next(1500 * kUs);  // 5000us request was capped at 1000us
  ASSERT_EQ(d2.dropped.size(), 1u);
  EXPECT_EQ(d2.dropped[0]->sequence, 1u);
}

TEST(BatchQueueTest, AllowTimeoutOverrideLetsRequestsLengthenIt) {
  SchedulerOptions o = Batching(4, 1'000'000);
  o.levels[0].default_timeout_us = 1000;
  o.levels[0].allow_timeout_override = true;
  BatchQueue q(o);
  AddOk(q, Req(1, 4, 0, 5000), 0);
  EXPECT_TRUE(q.Next(1500 * kUs).dropped.empty());
}

TEST(BatchQueueTest, DeadlineThatCannotBeMetIsDroppedAtDequeue) {
  BatchQueue q(Batching(4));
  // Admitted while the model looked fast; then a batch took 300 us.
  AddOk(q, Req(1, 4, 0, /*timeout_us=*/200), 0);  // needs 300 us, has 200
  AddOk(q, Req(1, 4, 0, /*timeout_us=*/1000), 0);
  q.RecordExecution(1, 300 * kUs);
  auto d = q.Next(0);
  ASSERT_EQ(d.dropped.size(), 1u);
  EXPECT_NE(d.dropped[0]->response.status.message().find("cannot be met"),
            std::string::npos);
  EXPECT_EQ(d.batch.size(), 1u);
}

TEST(BatchQueueTest, CancelledRequestsAreNotExecuted) {
  BatchQueue q(Batching(4));
  auto r = Req();
  CancellationFlag flag;
  r->request.cancellation = &flag;
  AddOk(q, std::move(r), 0);
  AddOk(q, Req(), 0);
  flag.Cancel();
  auto d = q.Next(0);
  ASSERT_EQ(d.dropped.size(), 1u);
  EXPECT_EQ(d.dropped[0]->response.status.code(), absl::StatusCode::kCancelled);
  ASSERT_EQ(d.batch.size(), 1u);
  EXPECT_EQ(d.batch[0]->sequence, 1u);
}

TEST(BatchQueueTest, FlushSendsAPartialBatchImmediately) {
  BatchQueue q(Batching(8, 1'000'000));
  AddOk(q, Req(), 0);
  EXPECT_TRUE(q.Next(0).batch.empty());
  EXPECT_EQ(q.Next(0, /*flush=*/true).batch.size(), 1u);
}

TEST(BatchQueueTest, DefaultQueueSizeIsBounded) {
  EXPECT_EQ(SchedulerOptions::DefaultQueueSize(0, 1), 128u);
  EXPECT_EQ(SchedulerOptions::DefaultQueueSize(32, 2), 256u);
  inference::ModelConfig c;
  c.set_max_batch_size(8);
  auto o = SchedulerOptions::FromConfig(c, 1);
  ASSERT_EQ(o.levels.size(), 1u);
  EXPECT_EQ(o.levels[0].max_queue_size, 128u);
  EXPECT_FALSE(o.dynamic_batching);
  c.mutable_dynamic_batching()->set_max_queue_delay_microseconds(100);
  c.mutable_dynamic_batching()->add_preferred_batch_size(4);
  o = SchedulerOptions::FromConfig(c, 1);
  EXPECT_TRUE(o.dynamic_batching);
  EXPECT_EQ(o.max_queue_delay_ns, 100'000u);
}

TEST(BatchQueueTest, PredictedWaitCountsBatchesAheadOverInstances) {
  SchedulerOptions o = Batching(4);
  o.instances = 2;
  BatchQueue q(o);
  EXPECT_EQ(q.PredictedWaitNs(0, 1), 0u);  // nothing to predict from yet
  q.RecordExecution(4, 10'000 * kUs);      // 10 ms a batch
  EXPECT_EQ(q.PredictedWaitNs(0, 1), 0u);  // empty queue
  for (int i = 0; i < 8; ++i) AddOk(q, Req(), 0);
  // 8 queued + 1 = 3 batches of 4 on 2 instances: one round ahead.
  EXPECT_EQ(q.PredictedWaitNs(0, 1), 10'000 * kUs);
  for (int i = 0; i < 8; ++i) AddOk(q, Req(), 0);
  // 17 items = 5 batches: two rounds.
  EXPECT_EQ(q.PredictedWaitNs(0, 1), 20'000 * kUs);
}

TEST(BatchQueueTest, AWaitOverTheBudgetIsRefusedWithRetryAfter) {
  SchedulerOptions o = Batching(4);
  o.queue_budget_ns = 15'000 * kUs;  // 15 ms
  BatchQueue q(o);
  q.RecordExecution(4, 10'000 * kUs);  // one instance, 10 ms a batch of 4
  for (int i = 0; i < 7; ++i) AddOk(q, Req(), 0);  // the 7th waits 10 ms
  EXPECT_FALSE(q.RefusesEveryLevel());
  AddOk(q, Req(), 0);  // 8 queued: the next would wait 20 ms
  EXPECT_TRUE(q.RefusesEveryLevel());
  absl::Status s;
  PendingPtr back = q.Add(Req(), 0, &s);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("would wait about 20 ms, over its queue budget "
                             "of 15 ms"),
            std::string::npos)
      << s;
  EXPECT_EQ(RetryAfterSeconds(s), 1u);
  EXPECT_EQ(q.size(), 8u);
}

TEST(BatchQueueTest, EveryLevelMustRefuseBeforeTheQueueRefusesUnparsed) {
  SchedulerOptions o = Batching(1);
  o.levels = {QueuePolicy{2}, QueuePolicy{2}};
  o.default_level = 1;
  BatchQueue q(o);
  AddOk(q, Req(1, 4, /*priority=*/2), 0);
  AddOk(q, Req(1, 4, /*priority=*/2), 0);
  EXPECT_FALSE(q.RefusesEveryLevel());  // priority 1 still has room
  AddOk(q, Req(1, 4, /*priority=*/1), 0);
  AddOk(q, Req(1, 4, /*priority=*/1), 0);
  EXPECT_TRUE(q.RefusesEveryLevel());
}

TEST(BatchQueueTest, ADeadlineThatCannotBeMetIsRefusedAtAdmission) {
  SchedulerOptions o = Batching(1);
  o.auto_queue_budget = false;  // the deadline alone decides
  BatchQueue q(o);
  q.RecordExecution(1, 2'000'000 * kUs);  // 2 s a batch
  AddOk(q, Req(1, 4, 0, /*timeout_us=*/10'000'000), 0);
  AddOk(q, Req(1, 4, 0, /*timeout_us=*/10'000'000), 0);
  // Two batches ahead (4 s) + its own (2 s) > 5 s.
  absl::Status s;
  ASSERT_NE(q.Add(Req(1, 4, 0, /*timeout_us=*/5'000'000), 0, &s), nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("request deadline cannot be met"),
            std::string::npos);
  EXPECT_EQ(RetryAfterSeconds(s), 4u);
  // 7 s is enough.
  AddOk(q, Req(1, 4, 0, /*timeout_us=*/7'000'000), 0);
}

TEST(BatchQueueTest, TheDefaultBudgetFollowsTheProfile) {
  inference::ModelConfig c;
  c.set_max_batch_size(4);
  c.mutable_dynamic_batching();
  SchedulerOptions o = SchedulerOptions::FromConfig(c, 1);
  EXPECT_TRUE(o.auto_queue_budget);
  BatchQueue q(o);
  EXPECT_EQ(q.BudgetNs(), 0u);  // nothing to predict from yet
  q.RecordExecution(4, 1'000 * kUs);
  EXPECT_EQ(q.BudgetNs(), SchedulerOptions::kMinDefaultBudgetNs);
  BatchQueue slow(o);
  slow.RecordExecution(4, 1'000'000 * kUs);  // three full batches: 3 s
  EXPECT_EQ(slow.BudgetNs(), 3'000'000 * kUs);
  // The default bounds the completion: two batches ahead (2 s) and its
  // own (1 s) fit; three batches ahead do not.
  for (int i = 0; i < 12; ++i) AddOk(slow, Req(), 0);
  absl::Status s;
  ASSERT_NE(slow.Add(Req(), 0, &s), nullptr);
  EXPECT_NE(s.message().find("would finish in about 4000 ms, over its "
                             "default budget of 3000 ms"),
            std::string::npos)
      << s;
}

TEST(BatchQueueTest, BudgetComesFromTheParameterOrTritonsQueueTimeout) {
  inference::ModelConfig c;
  c.set_max_batch_size(4);
  c.mutable_dynamic_batching()
      ->mutable_default_queue_policy()
      ->set_default_timeout_microseconds(300'000);
  SchedulerOptions o = SchedulerOptions::FromConfig(c, 1);
  EXPECT_FALSE(o.auto_queue_budget);
  EXPECT_EQ(o.queue_budget_ns, 300'000 * kUs);
  (*c.mutable_parameters())["queue_budget_ms"].set_string_value("0");
  o = SchedulerOptions::FromConfig(c, 1);
  EXPECT_FALSE(o.auto_queue_budget);  // "0": the count bound only
  EXPECT_EQ(o.queue_budget_ns, 0u);
  (*c.mutable_parameters())["latency_target_ms"].set_string_value("40");
  o = SchedulerOptions::FromConfig(c, 1);
  EXPECT_EQ(o.latency_target_ns, 40'000 * kUs);
}

TEST(BatchQueueTest, AllBusyInstancesAddWhatIsLeftOfTheirBatches) {
  SchedulerOptions o = Batching(4);
  BatchQueue q(o);
  q.RecordExecution(4, 10'000 * kUs);
  AddOk(q, Req(), 0);
  ASSERT_EQ(q.Next(0).batch.size(), 1u);  // the only instance is busy now
  EXPECT_EQ(q.PredictedWaitNs(0, 1), 10'000 * kUs);
  AddOk(q, Req(), 4'000 * kUs);  // 6 ms left of the running batch
  EXPECT_EQ(q.PredictedWaitNs(0, 1), 6'000 * kUs);
  q.RecordExecution(1, 10'000 * kUs);
  EXPECT_EQ(q.PredictedWaitNs(0, 1), 0u);
}

SchedulerOptions Targeted(int32_t max_batch, uint64_t target_us) {
  SchedulerOptions o = Batching(max_batch);
  o.latency_target_ns = target_us * kUs;
  o.auto_queue_budget = false;
  return o;
}

TEST(BatchQueueTest, ALatencyTargetSizesBatchesFromTheProfile) {
  BatchQueue q(Targeted(32, 100'000));  // 100 ms
  EXPECT_EQ(q.BatchLimit(), 32);        // nothing measured yet
  q.RecordExecution(1, 5'000 * kUs);
  q.RecordExecution(32, 160'000 * kUs);  // 5 ms an item
  EXPECT_EQ(q.BatchLimit(), 10);         // 50 ms: twice fits in 100
  for (int i = 0; i < 12; ++i) AddOk(q, Req(), 0);
  EXPECT_EQ(q.Next(0).batch.size(), 10u);
  // The machine gets slower (10 ms an item): batches get smaller.
  for (int i = 0; i < 20; ++i) q.RecordExecution(32, 320'000 * kUs);
  EXPECT_EQ(q.BatchLimit(), 5);
}

TEST(BatchQueueTest, ALatencyTargetRefusesWhatWouldFinishLate) {
  BatchQueue q(Targeted(4, 100'000));
  q.RecordExecution(4, 40'000 * kUs);
  for (int i = 0; i < 4; ++i) AddOk(q, Req(), 0);  // one batch ahead
  // 40 ms ahead (a full batch on the one instance) + 40 ms of its own.
  AddOk(q, Req(), 0);
  for (int i = 0; i < 3; ++i) AddOk(q, Req(), 0);
  EXPECT_TRUE(q.RefusesEveryLevel());  // 80 ms ahead + 40 > 100
  absl::Status s;
  ASSERT_NE(q.Add(Req(), 0, &s), nullptr);
  EXPECT_NE(s.message().find("over its latency target of 100 ms"),
            std::string::npos)
      << s;
}

TEST(BatchQueueTest, AdaptiveBatchingAddsNoDelayToALoneRequest) {
  BatchQueue q(Targeted(8, 100'000));
  q.RecordExecution(8, 8'000 * kUs);
  AddOk(q, Req(), 0);
  EXPECT_EQ(q.Next(0).batch.size(), 1u);
}

TEST(BatchQueueTest, AdaptiveBatchingWaitsForMoreWhileTheyKeepArriving) {
  BatchQueue q(Targeted(8, 100'000));
  q.RecordExecution(8, 8'000 * kUs);
  // Arrivals every 1 ms while the instance was busy.
  for (int i = 0; i < 3; ++i) AddOk(q, Req(), i * 1'000 * kUs);
  auto d = q.Next(2'100 * kUs);
  EXPECT_TRUE(d.batch.empty());
  EXPECT_EQ(d.wake_at_ns, 4'000 * kUs);  // two gaps after the last
  for (int i = 3; i < 8; ++i) AddOk(q, Req(), i * 1'000 * kUs);
  EXPECT_EQ(q.Next(7'000 * kUs).batch.size(), 8u);  // full: at once
  // Arrivals stop: the partial batch goes two gaps after the last one.
  AddOk(q, Req(), 8'000 * kUs);
  AddOk(q, Req(), 9'000 * kUs);
  EXPECT_TRUE(q.Next(9'500 * kUs).batch.empty());
  EXPECT_EQ(q.Next(11'000 * kUs).batch.size(), 2u);
}

TEST(BatchQueueTest, OneSlowBatchNeverMakesAnIdleModelRefuse) {
  SchedulerOptions o = Batching(8);
  BatchQueue q(o);
  // Full batches are fast (the default budget is its 250 ms floor), then
  // one batch of one took 2 s: alone, it would be over the budget.
  q.RecordExecution(8, 8'000 * kUs);
  q.RecordExecution(1, 2'000'000 * kUs);
  EXPECT_EQ(q.BudgetNs(), SchedulerOptions::kMinDefaultBudgetNs);
  EXPECT_FALSE(q.RefusesEveryLevel());
  AddOk(q, Req(), 0);  // runs at once: admitted, and so the profile learns
  ASSERT_EQ(q.Next(0).batch.size(), 1u);
  q.RecordExecution(1, 1'000 * kUs);
  EXPECT_FALSE(q.RefusesEveryLevel());
}

TEST(BatchQueueTest, QueuedItemsStayCountedThroughPutBacksAndDrains) {
  BatchQueue q(Batching(4, /*delay_us=*/500));
  q.RecordExecution(4, 10'000 * kUs);
  for (int i = 0; i < 3; ++i) AddOk(q, Req(), 0);  // 3 items
  // 3 + 2 items: two batches of 4 on one instance, one round ahead.
  EXPECT_EQ(q.PredictedWaitNs(0, 2), 10'000 * kUs);
  // A partial batch waits for its delay: taken, then put back.
  EXPECT_TRUE(q.Next(100 * kUs).batch.empty());
  EXPECT_EQ(q.PredictedWaitNs(0, 2), 10'000 * kUs);
  ASSERT_EQ(q.Next(600 * kUs).batch.size(), 3u);  // the delay is over
  q.RecordExecution(3, 10'000 * kUs);
  EXPECT_EQ(q.PredictedWaitNs(0, 2), 0u);  // nothing queued
  AddOk(q, Req(3), 700 * kUs);
  q.DrainAll(absl::CancelledError("stopping"));
  AddOk(q, Req(1), 800 * kUs);
  // 1 + 2 items fit one batch; had the drained 3 stayed counted, 6 would not.
  EXPECT_EQ(q.PredictedWaitNs(0, 2), 0u);
}

}  // namespace
}  // namespace serval
