#include "ensemble/ensemble_executor.h"

#include <cstring>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "ensemble/ensemble_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::serval::testing::AddStep;
using ::serval::testing::Spec;
using ::serval::testing::Tensor;
using ::testing::HasSubstr;

std::vector<int32_t> Values(const char* data, size_t bytes) {
  std::vector<int32_t> v(bytes / 4);
  std::memcpy(v.data(), data, bytes);
  return v;
}

OutputTensor Int32Output(const std::string& name, const Shape& shape,
                         const std::vector<int32_t>& values) {
  OutputTensor o;
  o.name = name;
  o.datatype = DataType::kInt32;
  o.shape = shape;
  o.data.Resize(values.size() * 4);
  std::memcpy(o.data.data(), values.data(), values.size() * 4);
  return o;
}

// Step models computed in the test: "inc" OUT = IN + 1, "add" SUM = A + B,
// "fail" refuses, "mute" answers without outputs. Completes inline, or on a
// thread of its own when `async`.
class FakeSteps final : public StepDispatcher {
 public:
  struct Call {
    std::string model;
    std::string id;
    uint32_t priority;
    uint64_t timeout_us;
    const CancellationFlag* cancellation;
    std::vector<const char*> input_data;
  };

  explicit FakeSteps(bool async) : async_(async) {}
  ~FakeSteps() override {
    for (auto& t : threads_) t.join();
  }

  absl::StatusOr<ModelSpec> StepSpec(std::string_view model,
                                     int64_t) const override {
    if (model == "inc" || model == "fail" || model == "mute") {
      return Spec(std::string(model), 8, {Tensor("IN", DataType::kInt32, {4})},
                  {Tensor("OUT", DataType::kInt32, {4})});
    }
    if (model == "add") {
      return Spec("add", 8,
                  {Tensor("A", DataType::kInt32, {4}),
                   Tensor("B", DataType::kInt32, {4})},
                  {Tensor("SUM", DataType::kInt32, {4})});
    }
    return absl::NotFoundError("no such model");
  }

  void InferStep(std::string_view model, int64_t, InferenceRequest request,
                 InferCompletion* done) override {
    Call call{std::string(model), request.id,           request.priority,
              request.timeout_us, request.cancellation, {}};
    for (const auto& in : request.inputs) call.input_data.push_back(in.data);
    InferenceResponse response;
    if (model == "inc") {
      auto v = Values(request.inputs[0].data, request.inputs[0].byte_size);
      for (auto& x : v) ++x;
      response.outputs.push_back(
          Int32Output("OUT", request.inputs[0].shape, v));
    } else if (model == "add") {
      const TensorView* a = &request.inputs[0];
      const TensorView* b = &request.inputs[1];
      if (a->name != "A") std::swap(a, b);
      auto va = Values(a->data, a->byte_size);
      auto vb = Values(b->data, b->byte_size);
      for (size_t i = 0; i < va.size(); ++i) va[i] += vb[i];
      response.outputs.push_back(Int32Output("SUM", a->shape, va));
    } else if (model == "fail") {
      response.status = absl::InvalidArgumentError("bad input");
    }
    {
      absl::MutexLock lock(&mu_);
      calls_.push_back(call);
      for (const auto& o : response.outputs) outputs_.push_back(o.data.data());
    }
    if (!async_) {
      done->OnInferComplete(std::move(response));
      return;
    }
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([done, r = std::move(response)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      done->OnInferComplete(std::move(r));
    });
  }

  std::vector<Call> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<const char*> outputs() {
    absl::MutexLock lock(&mu_);
    return outputs_;
  }

 private:
  const bool async_;
  absl::Mutex mu_;
  std::vector<Call> calls_;
  std::vector<const char*> outputs_;
  std::vector<std::thread> threads_;
};

class EnsembleExecutorTest : public ::testing::TestWithParam<bool> {
 protected:
  EnsembleExecutorTest() : steps_(GetParam()) {}

  std::shared_ptr<const EnsemblePlan> Plan(
      const inference::ModelEnsembling& e) {
    ModelSpec ensemble =
        Spec("pipe", 8, {Tensor("INPUT", DataType::kInt32, {4})},
             {Tensor("OUTPUT", DataType::kInt32, {4})});
    auto plan =
        BuildEnsemblePlan(ensemble, e, [this](std::string_view m, int64_t v) {
          return steps_.StepSpec(m, v);
        });
    EXPECT_TRUE(plan.ok()) << plan.status();
    return std::make_shared<const EnsemblePlan>(std::move(*plan));
  }

  PendingPtr Request() {
    auto r = std::make_unique<PendingRequest>();
    r->request.id = "req-7";
    r->request.priority = 2;
    r->request.inputs.push_back(
        TensorView{"INPUT",
                   DataType::kInt32,
                   {1, 4},
                   reinterpret_cast<const char*>(input_),
                   sizeof(input_)});
    return r;
  }

  absl::Status Run(EnsembleExecutor& ex, PendingPtr& r) {
    std::vector<PendingPtr> batch;
    batch.push_back(std::move(r));
    BatchResult result = ex.Execute(0, std::span<PendingPtr>(batch));
    r = std::move(batch[0]);
    return result.status;
  }

  const int32_t input_[4] = {1, 2, 3, 4};
  FakeSteps steps_;
  FakeClock clock_{1000};
};

TEST_P(EnsembleExecutorTest, AChainHandsTensorsOnWithoutCopies) {
  inference::ModelEnsembling e;
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "mid"}});
  AddStep(&e, "inc", {{"IN", "mid"}}, {{"OUT", "OUTPUT"}});
  EnsembleExecutor ex(Plan(e), &steps_, 4, &clock_);
  EXPECT_EQ(ex.instance_count(), 4u);
  PendingPtr r = Request();
  ASSERT_TRUE(Run(ex, r).ok());
  ASSERT_EQ(r->response.outputs.size(), 1u);
  const OutputTensor& out = r->response.outputs[0];
  EXPECT_EQ(out.name, "OUTPUT");
  EXPECT_EQ(out.shape, (Shape{1, 4}));
  EXPECT_EQ(Values(out.data.data(), out.data.size()),
            (std::vector<int32_t>{3, 4, 5, 6}));
  auto calls = steps_.calls();
  ASSERT_EQ(calls.size(), 2u);
  // The first step reads the request's bytes, the second the first's
  // output buffer, and the response holds the second's buffer.
  EXPECT_EQ(calls[0].input_data[0], reinterpret_cast<const char*>(input_));
  EXPECT_EQ(calls[1].input_data[0], steps_.outputs()[0]);
  EXPECT_EQ(out.data.data(), steps_.outputs()[1]);
  for (const auto& c : calls) {
    EXPECT_EQ(c.id, "req-7");
    EXPECT_EQ(c.priority, 2u);
    EXPECT_EQ(c.timeout_us, 0u);
  }
}

TEST_P(EnsembleExecutorTest, IndependentStepsRunThenJoin) {
  inference::ModelEnsembling e;
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "left"}});
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "right"}});
  AddStep(&e, "add", {{"A", "left"}, {"B", "right"}}, {{"SUM", "OUTPUT"}});
  EnsembleExecutor ex(Plan(e), &steps_, 1, &clock_);
  PendingPtr r = Request();
  ASSERT_TRUE(Run(ex, r).ok());
  EXPECT_EQ(Values(r->response.outputs[0].data.data(),
                   r->response.outputs[0].data.size()),
            (std::vector<int32_t>{4, 6, 8, 10}));
  EXPECT_EQ(steps_.calls().back().model, "add");
}

TEST_P(EnsembleExecutorTest, AFailingStepFailsTheRequestNamingIt) {
  inference::ModelEnsembling e;
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "mid"}});
  AddStep(&e, "fail", {{"IN", "mid"}}, {{"OUT", "mid2"}});
  AddStep(&e, "inc", {{"IN", "mid2"}}, {{"OUT", "OUTPUT"}});
  EnsembleExecutor ex(Plan(e), &steps_, 1, &clock_);
  PendingPtr r = Request();
  absl::Status s = Run(ex, r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("ensemble 'pipe' step 1 (model 'fail') "
                                     "failed: bad input"));
  EXPECT_EQ(steps_.calls().size(), 2u);  // the last step never started
  EXPECT_TRUE(r->response.outputs.empty());
}

TEST_P(EnsembleExecutorTest, AStepWithoutItsOutputIsAnError) {
  inference::ModelEnsembling e;
  AddStep(&e, "mute", {{"IN", "INPUT"}}, {{"OUT", "OUTPUT"}});
  EnsembleExecutor ex(Plan(e), &steps_, 1, &clock_);
  PendingPtr r = Request();
  absl::Status s = Run(ex, r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("step 0 (model 'mute') returned no "
                                     "output 'OUT'"));
}

TEST_P(EnsembleExecutorTest, DeadlineAndCancellationReachEveryStep) {
  inference::ModelEnsembling e;
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "OUTPUT"}});
  EnsembleExecutor ex(Plan(e), &steps_, 1, &clock_);
  CancellationFlag flag;
  PendingPtr r = Request();
  r->deadline_ns = clock_.NowNs() + 5'000'000;  // 5 ms left
  r->request.cancellation = &flag;
  ASSERT_TRUE(Run(ex, r).ok());
  EXPECT_EQ(steps_.calls()[0].timeout_us, 5000u);
  EXPECT_EQ(steps_.calls()[0].cancellation, &flag);

  PendingPtr late = Request();
  late->deadline_ns = clock_.NowNs();
  absl::Status s = Run(ex, late);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("timeout passed before step 0"));

  PendingPtr cancelled = Request();
  flag.Cancel();
  cancelled->request.cancellation = &flag;
  EXPECT_EQ(Run(ex, cancelled).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(steps_.calls().size(), 1u);
}

TEST_P(EnsembleExecutorTest, OnlyRequestedOutputsAreReturned) {
  inference::ModelEnsembling e;
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "OUTPUT"}});
  EnsembleExecutor ex(Plan(e), &steps_, 1, &clock_);
  PendingPtr r = Request();
  r->request.requested_outputs = {"OUTPUT"};
  ASSERT_TRUE(Run(ex, r).ok());
  EXPECT_EQ(r->response.outputs.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(InlineAndAsync, EnsembleExecutorTest,
                         ::testing::Bool(), [](const auto& info) {
                           return info.param ? "Async" : "Inline";
                         });

}  // namespace
}  // namespace serval
