#include "config/autocomplete_merge.h"

#include "config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::serval::testing::ParseOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kBackendJson[] = R"json({
  "max_batch_size": 8,
  "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [3, -1]}],
  "output": [{"name": "y", "data_type": "TYPE_INT64", "dims": [10]},
             {"name": "z", "data_type": "TYPE_FP16", "dims": [2]}],
  "dynamic_batching": {"max_queue_delay_microseconds": 100}
})json";

TEST(AutoCompleteMergeTest, FillsAnEmptyConfig) {
  inference::ModelConfig config = ParseOrDie("backend: \"onnxruntime\"");
  ASSERT_TRUE(MergeAutoCompleteJson(kBackendJson, "onnxruntime", &config).ok());
  EXPECT_EQ(config.max_batch_size(), 8);
  ASSERT_EQ(config.input_size(), 1);
  EXPECT_EQ(config.input(0).name(), "x");
  EXPECT_EQ(config.input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config.input(0).dims(), ElementsAre(3, -1));
  ASSERT_EQ(config.output_size(), 2);
  EXPECT_EQ(config.output(1).data_type(), inference::TYPE_FP16);
  EXPECT_EQ(config.dynamic_batching().max_queue_delay_microseconds(), 100u);
  EXPECT_EQ(config.backend(), "onnxruntime");
}

TEST(AutoCompleteMergeTest, KeepsWhatTheUserWrote) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    max_batch_size: 0
    input {
      name: "x"
      data_type: TYPE_FP16
      dims: [ 3, 4 ]
    }
    output {
      name: "only"
      data_type: TYPE_FP32
      dims: [ 1 ]
    }
    sequence_batching {}
  )pb");
  ASSERT_TRUE(MergeAutoCompleteJson(kBackendJson, "onnxruntime", &config).ok());
  EXPECT_EQ(config.max_batch_size(), 0);
  ASSERT_EQ(config.input_size(), 1);
  EXPECT_EQ(config.input(0).data_type(), inference::TYPE_FP16);
  EXPECT_THAT(config.input(0).dims(), ElementsAre(3, 4));
  ASSERT_EQ(config.output_size(), 1);
  EXPECT_EQ(config.output(0).name(), "only");
  EXPECT_FALSE(config.has_dynamic_batching());
  EXPECT_TRUE(config.has_sequence_batching());
}

TEST(AutoCompleteMergeTest, FillsGapsOfUserTensorsByName) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    input { name: "x" }
    output { name: "z" data_type: TYPE_FP32 }
    output { name: "unknown" }
  )pb");
  ASSERT_TRUE(MergeAutoCompleteJson(kBackendJson, "onnxruntime", &config).ok());
  EXPECT_EQ(config.input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config.input(0).dims(), ElementsAre(3, -1));
  EXPECT_EQ(config.output(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config.output(0).dims(), ElementsAre(2));
  EXPECT_EQ(config.output(1).data_type(), inference::TYPE_INVALID);
  EXPECT_EQ(config.output_size(), 2);
}

TEST(AutoCompleteMergeTest, UnsetMaxBatchSizeStaysUnsetWhenBackendSaysNothing) {
  inference::ModelConfig config;
  ASSERT_TRUE(MergeAutoCompleteJson("{}", "b", &config).ok());
  EXPECT_FALSE(config.has_max_batch_size());
}

TEST(AutoCompleteMergeTest, BackendZeroMaxBatchSizeIsTaken) {
  inference::ModelConfig config;
  ASSERT_TRUE(
      MergeAutoCompleteJson(R"({"max_batch_size": 0})", "b", &config).ok());
  EXPECT_TRUE(config.has_max_batch_size());
  EXPECT_EQ(config.max_batch_size(), 0);
}

TEST(AutoCompleteMergeTest, MalformedJsonNamesModelAndBackend) {
  inference::ModelConfig config = ParseOrDie("name: \"m\"");
  absl::Status status =
      MergeAutoCompleteJson("{\"input\": [", "torch", &config);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("model 'm': auto-complete output of backend 'torch'"));
}

TEST(AutoCompleteMergeTest, UnknownFieldInBackendJsonIsAnError) {
  inference::ModelConfig config;
  absl::Status status =
      MergeAutoCompleteJson(R"({"max_batch": 4})", "torch", &config);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("max_batch"));
}

}  // namespace
}  // namespace serval
