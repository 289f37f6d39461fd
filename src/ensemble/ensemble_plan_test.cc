#include "ensemble/ensemble_plan.h"

#include <map>

#include "ensemble/ensemble_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::serval::testing::AddStep;
using ::serval::testing::Spec;
using ::serval::testing::Tensor;
using ::testing::HasSubstr;

// Step models: "inc" INT32 [4] -> [4]; "add" (A, B) -> SUM; "f32" FP32.
class EnsemblePlanTest : public ::testing::Test {
 protected:
  EnsemblePlanTest() {
    models_["inc"] = Spec("inc", 8, {Tensor("IN", DataType::kInt32, {4})},
                          {Tensor("OUT", DataType::kInt32, {4})});
    models_["add"] = Spec(
        "add", 8,
        {Tensor("A", DataType::kInt32, {4}), Tensor("B", DataType::kInt32, {4}),
         Tensor("BIAS", DataType::kInt32, {4}, /*optional=*/true)},
        {Tensor("SUM", DataType::kInt32, {4})});
    models_["f32"] = Spec("f32", 8, {Tensor("X", DataType::kFp32, {4})},
                          {Tensor("Y", DataType::kFp32, {4})});
    models_["wide"] = Spec("wide", 8, {Tensor("IN", DataType::kInt32, {5})},
                           {Tensor("OUT", DataType::kInt32, {5})});
    lookup_ = [this](std::string_view name,
                     int64_t) -> absl::StatusOr<ModelSpec> {
      auto it = models_.find(std::string(name));
      if (it == models_.end()) {
        return absl::NotFoundError("Request for unknown model: '" +
                                   std::string(name) + "' is not found");
      }
      return it->second;
    };
  }

  ModelSpec Ensemble(int32_t max_batch_size = 8) const {
    return Spec("pipe", max_batch_size,
                {Tensor("INPUT", DataType::kInt32, {4})},
                {Tensor("OUTPUT", DataType::kInt32, {4})});
  }

  std::map<std::string, ModelSpec> models_;
  StepLookup lookup_;
};

TEST_F(EnsemblePlanTest, AChainBuildsItsGraph) {
  inference::ModelEnsembling e;
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "mid"}});
  AddStep(&e, "inc", {{"IN", "mid"}}, {{"OUT", "OUTPUT"}});
  auto plan = BuildEnsemblePlan(Ensemble(), e, lookup_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 2u);
  ASSERT_EQ(plan->tensors.size(), 3u);  // INPUT, mid, OUTPUT
  const EnsembleTensor& mid = plan->tensors[plan->steps[0].outputs[0].tensor];
  EXPECT_EQ(mid.name, "mid");
  EXPECT_EQ(mid.producer, 0);
  EXPECT_EQ(mid.consumers, std::vector<size_t>{1});
  EXPECT_EQ(mid.shape, (Shape{-1, 4}));
  EXPECT_EQ(plan->steps[1].inputs[0].model_tensor, "IN");
  EXPECT_EQ(plan->steps[1].inputs[0].tensor, plan->steps[0].outputs[0].tensor);
  EXPECT_EQ(plan->tensors[plan->output_tensors[0]].producer, 1);
  EXPECT_EQ(plan->StepLabel(1), "step 1 (model 'inc')");
}

TEST_F(EnsemblePlanTest, EveryProblemIsReportedAtOnce) {
  inference::ModelEnsembling e;
  AddStep(&e, "inc", {{"IN", "INPUT"}, {"EXTRA", "INPUT"}},
          {{"OUT", "a"}, {"NOPE", "b"}});
  AddStep(&e, "f32", {{"X", "a"}}, {{"Y", "c"}});        // INT32 into FP32
  AddStep(&e, "wide", {{"IN", "a"}}, {{"OUT", "d"}});    // [4] into [5]
  AddStep(&e, "add", {{"A", "ghost"}}, {{"SUM", "e"}});  // B unmapped
  ModelSpec ensemble = Spec("pipe", 8,
                            {Tensor("INPUT", DataType::kInt32, {4}),
                             Tensor("UNUSED", DataType::kInt32, {4})},
                            {Tensor("OUTPUT", DataType::kInt32, {4})});
  auto plan = BuildEnsemblePlan(ensemble, e, lookup_);
  ASSERT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string m(plan.status().message());
  EXPECT_THAT(m, HasSubstr("ensemble 'pipe': "));
  EXPECT_THAT(m, HasSubstr("step 0 (model 'inc'): input_map names 'EXTRA', "
                           "which is not an input of 'inc' (inputs: IN)"));
  EXPECT_THAT(m, HasSubstr("step 0 (model 'inc'): output_map names 'NOPE', "
                           "which is not an output of 'inc' (outputs: OUT)"));
  EXPECT_THAT(m, HasSubstr("step 1 (model 'f32'): input 'X' is FP32 but "
                           "tensor 'a' (step 0 (model 'inc') output) is "
                           "INT32"));
  EXPECT_THAT(m, HasSubstr("step 2 (model 'wide'): input 'IN' has shape "
                           "[-1,5] but tensor 'a'"));
  EXPECT_THAT(m, HasSubstr("step 3 (model 'add'): input 'A' reads tensor "
                           "'ghost', which is neither an ensemble input nor "
                           "an output of any step"));
  EXPECT_THAT(m, HasSubstr("step 3 (model 'add'): required input 'B' of "
                           "'add' is not in its input_map"));
  EXPECT_THAT(m, Not(HasSubstr("'BIAS'")));  // optional
  EXPECT_THAT(m, HasSubstr("ensemble input 'UNUSED' is not read by any "
                           "step's input_map"));
  EXPECT_THAT(m, HasSubstr("ensemble output 'OUTPUT' is not produced by any "
                           "step's output_map"));
}

TEST_F(EnsemblePlanTest, ACycleIsNamed) {
  inference::ModelEnsembling e;
  AddStep(&e, "add", {{"A", "INPUT"}, {"B", "loop"}}, {{"SUM", "OUTPUT"}});
  AddStep(&e, "inc", {{"IN", "OUTPUT"}}, {{"OUT", "loop"}});
  auto plan = BuildEnsemblePlan(Ensemble(), e, lookup_);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              HasSubstr("steps form a cycle (each waits for another's "
                        "output): step 0 (model 'add'), step 1 (model "
                        "'inc')"));
}

TEST_F(EnsemblePlanTest, ATensorHasOneProducer) {
  inference::ModelEnsembling e;
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "OUTPUT"}});
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "OUTPUT"}});
  AddStep(&e, "inc", {{"IN", "INPUT"}}, {{"OUT", "INPUT"}});
  auto plan = BuildEnsemblePlan(Ensemble(), e, lookup_);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              HasSubstr("step 1 (model 'inc'): output_map produces tensor "
                        "'OUTPUT', which step 0 (model 'inc') output already "
                        "produces"));
  EXPECT_THAT(plan.status().message(),
              HasSubstr("step 2 (model 'inc'): output_map produces tensor "
                        "'INPUT', which the ensemble input already "
                        "produces"));
}

TEST_F(EnsemblePlanTest, MissingStepModelsAreNotFoundAndHideTheRest) {
  inference::ModelEnsembling e;
  AddStep(&e, "later", {{"IN", "INPUT"}}, {{"OUT", "mid"}});
  AddStep(&e, "inc", {{"IN", "mid"}}, {{"OUT", "OUTPUT"}});
  auto plan = BuildEnsemblePlan(Ensemble(), e, lookup_);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(plan.status().message(),
            "ensemble 'pipe': step 0 (model 'later'): the model is not "
            "available: Request for unknown model: 'later' is not found");
}

TEST_F(EnsemblePlanTest, StepsMustTakeTheEnsemblesBatch) {
  models_["small"] = Spec("small", 2, {Tensor("IN", DataType::kInt32, {4})},
                          {Tensor("OUT", DataType::kInt32, {4})});
  inference::ModelEnsembling e;
  AddStep(&e, "small", {{"IN", "INPUT"}}, {{"OUT", "OUTPUT"}});
  auto plan = BuildEnsemblePlan(Ensemble(8), e, lookup_);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              HasSubstr("step 0 (model 'small') has max_batch_size 2, less "
                        "than the ensemble's 8"));
  EXPECT_TRUE(BuildEnsemblePlan(Ensemble(2), e, lookup_).ok());
}

TEST_F(EnsemblePlanTest, NoStepsAndSelfReference) {
  inference::ModelEnsembling none;
  EXPECT_THAT(BuildEnsemblePlan(Ensemble(), none, lookup_).status().message(),
              HasSubstr("ensemble_scheduling has no step"));
  inference::ModelEnsembling self;
  AddStep(&self, "pipe", {{"IN", "INPUT"}}, {{"OUT", "OUTPUT"}});
  EXPECT_THAT(BuildEnsemblePlan(Ensemble(), self, lookup_).status().message(),
              HasSubstr("step 0 (model 'pipe') names the ensemble itself"));
}

TEST(EnsembleStepModelsTest, DistinctInStepOrder) {
  inference::ModelConfig config;
  config.set_platform("ensemble");
  auto* e = config.mutable_ensemble_scheduling();
  AddStep(e, "b", {}, {});
  AddStep(e, "a", {}, {});
  AddStep(e, "b", {}, {});
  EXPECT_EQ(EnsembleStepModels(config), (std::vector<std::string>{"b", "a"}));
  EXPECT_TRUE(EnsembleStepModels(inference::ModelConfig()).empty());
}

}  // namespace
}  // namespace serval
