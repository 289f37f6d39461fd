#include "config/config_finalizer.h"

#include "config/autocomplete_merge.h"
#include "config/backend_resolution.h"
#include "config/config_json.h"
#include "config/model_spec.h"
#include "config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::serval::testing::ParseOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

FinalizeOptions Options(std::string model_name, int visible_gpus = 0) {
  FinalizeOptions options;
  options.model_name = std::move(model_name);
  options.defaults.visible_gpus = visible_gpus;
  return options;
}

TEST(ConfigFinalizerTest, IdentityConfigBecomesServable) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    backend: "identity"
    max_batch_size: 8
    input {
      name: "INPUT0"
      data_type: TYPE_FP32
      dims: [ -1 ]
    }
    output {
      name: "OUTPUT0"
      data_type: TYPE_FP32
      dims: [ -1 ]
    }
    output {
      name: "OUTPUT1"
      data_type: TYPE_FP32
      dims: [ 1 ]
      label_filename: "l.txt"
    }
    metric_tags { key: "team" value: "a" }
    dynamic_batching {}
    parameters {
      key: "delay_us"
      value { string_value: "100" }
    }
  )pb");
  auto warnings = FinalizeModelConfig(Options("ident"), &config);
  ASSERT_TRUE(warnings.ok()) << warnings.status();
  EXPECT_THAT(*warnings,
              ElementsAre(HasSubstr("model 'ident': field 'metric_tags'")));
  EXPECT_EQ(config.name(), "ident");
  EXPECT_EQ(config.instance_group(0).kind(),
            inference::ModelInstanceGroup::KIND_CPU);
  auto spec = ModelSpec::FromConfig(config);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->max_batch_size, 8);
}

TEST(ConfigFinalizerTest, MissingConfigCompletedByBackend) {
  // No config.pbtxt: the repository knows the backend from the file name,
  // the backend reports the tensors.
  inference::ModelConfig config;
  config.set_backend(*BackendForModelFile("model.onnx"));
  auto choice = ResolveBackend(config);
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->plugin, "onnxruntime");
  ASSERT_TRUE(MergeAutoCompleteJson(
                  R"({"max_batch_size": 4,
                      "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [3]}],
                      "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [2]}]})",
                  choice->backend, &config)
                  .ok());
  auto warnings = FinalizeModelConfig(Options("auto"), &config);
  ASSERT_TRUE(warnings.ok()) << warnings.status();
  EXPECT_TRUE(warnings->empty());
  auto json = ModelConfigToJson(config);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"name\":\"auto\""));
  EXPECT_THAT(*json, HasSubstr("\"max_batch_size\":4"));
}

TEST(ConfigFinalizerTest, NothingDeclaredAnywhereIsAnError) {
  inference::ModelConfig config = ParseOrDie("backend: \"identity\"");
  auto warnings = FinalizeModelConfig(Options("empty"), &config);
  ASSERT_FALSE(warnings.ok());
  EXPECT_EQ(warnings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(warnings.status().message()),
              HasSubstr("model 'empty': input has no entries"));
}

TEST(ConfigFinalizerTest, UnimplementedFieldComesFirstAndNamesTheModel) {
  inference::ModelConfig config = ParseOrDie("sequence_batching { }");
  auto warnings = FinalizeModelConfig(Options("seq"), &config);
  ASSERT_FALSE(warnings.ok());
  EXPECT_EQ(warnings.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(warnings.status().message()),
              HasSubstr("model 'seq': serval does not implement "
                        "'sequence_batching'"));
}

TEST(ConfigFinalizerTest, GpuPlacementUsesVisibleGpus) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    backend: "identity"
    input { name: "i" data_type: TYPE_FP32 dims: 1 }
    output { name: "o" data_type: TYPE_FP32 dims: 1 }
    instance_group { kind: KIND_GPU }
  )pb");
  auto none = FinalizeModelConfig(Options("g"), &config);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()),
              HasSubstr("no GPU is visible"));
  inference::ModelConfig again = ParseOrDie(R"pb(
    backend: "identity"
    input { name: "i" data_type: TYPE_FP32 dims: 1 }
    output { name: "o" data_type: TYPE_FP32 dims: 1 }
    instance_group { kind: KIND_GPU }
  )pb");
  auto one = FinalizeModelConfig(Options("g", /*visible_gpus=*/1), &again);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_THAT(again.instance_group(0).gpus(), ElementsAre(0));
}

}  // namespace
}  // namespace serval
