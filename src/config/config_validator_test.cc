#include "config/config_validator.h"

#include <string>

#include "config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::serval::testing::ParseOrDie;
using ::testing::HasSubstr;

// A valid config with the given text appended; tests add the faulty part.
// Lacks max_batch_size, input and output so cases can set their own.
inference::ModelConfig With(const std::string& extra, bool add_tensors = true) {
  std::string text = "name: \"m\"\n";
  if (add_tensors) {
    text +=
        "input { name: \"in\" data_type: TYPE_FP32 dims: [ 2, -1 ] }\n"
        "output { name: \"out\" data_type: TYPE_FP32 dims: [ 4 ] }\n";
  }
  return ParseOrDie(text + extra);
}

TEST(ConfigValidatorTest, ValidConfigWithEverySupportedFieldPasses) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    name: "m"
    backend: "onnxruntime"
    max_batch_size: 8
    version_policy { latest { num_versions: 2 } }
    input {
      name: "a"
      data_type: TYPE_FP32
      dims: [ -1, 4 ]
      reshape { shape: [ -1, 2, 2 ] }
      optional: true
    }
    input {
      name: "b"
      data_type: TYPE_STRING
      dims: [ 1 ]
      reshape {}
    }
    output {
      name: "a"
      data_type: TYPE_FP32
      dims: [ 2, 2 ]
      reshape { shape: [ 4 ] }
    }
    instance_group { count: 2 kind: KIND_CPU }
    instance_group {
      count: 1
      kind: KIND_GPU
      gpus: [ 0, 1 ]
    }
    instance_group { count: 1 kind: KIND_AUTO }
    dynamic_batching {
      preferred_batch_size: [ 1, 8 ]
      max_queue_delay_microseconds: 10000000
      priority_levels: 2
      default_priority_level: 2
      default_queue_policy { max_queue_size: 4 }
      priority_queue_policy {
        key: 1
        value { max_queue_size: 2 }
      }
      priority_queue_policy {
        key: 2
        value { timeout_action: DELAY }
      }
    }
    model_warmup {
      name: "w"
      batch_size: 8
      inputs {
        key: "b"
        value {
          data_type: TYPE_STRING
          dims: [ 1 ]
          zero_data: true
        }
      }
    }
    parameters {
      key: "p"
      value { string_value: "v" }
    }
  )pb");
  absl::Status status = ValidateModelConfig(config, "m");
  EXPECT_TRUE(status.ok()) << status;
}

struct BadCase {
  std::string label;
  inference::ModelConfig config;
  std::string fragment;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.label; }

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, IsRejectedWithPreciseMessage) {
  absl::Status status = ValidateModelConfig(GetParam().config, "m");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("model 'm': "));
  EXPECT_THAT(std::string(status.message()), HasSubstr(GetParam().fragment));
}

std::vector<BadCase> BadCases() {
  return {
      {"name mismatch",
       ParseOrDie(R"pb(name: "other"
                       input { name: "i" data_type: TYPE_FP32 dims: 1 }
                       output { name: "o" data_type: TYPE_FP32 dims: 1 })pb"),
       "name is 'other'; expected the model directory name 'm'"},
      {"negative max_batch_size", With("max_batch_size: -1"),
       "max_batch_size is -1; expected 0 (no batching) or more"},
      {"no input",
       With("output { name: \"o\" data_type: TYPE_FP32 dims: 1 }", false),
       "input has no entries; expected at least one"},
      {"no output",
       With("input { name: \"i\" data_type: TYPE_FP32 dims: 1 }", false),
       "output has no entries; expected at least one"},
      {"empty input name", With("input { data_type: TYPE_FP32 dims: 1 }"),
       "input[1].name is empty; expected a tensor name"},
      {"duplicate input name",
       With("input { name: \"in\" data_type: TYPE_FP32 dims: 1 }"),
       "input[1].name 'in' is declared more than once; expected unique "
       "input names"},
      {"duplicate output name",
       With("output { name: \"out\" data_type: TYPE_FP32 dims: 1 }"),
       "output[1].name 'out' is declared more than once"},
      {"missing data_type", With("input { name: \"x\" dims: 1 }"),
       "input 'x' (input[1].data_type) is not set; expected a type such as "
       "TYPE_FP32"},
      {"missing output data_type", With("output { name: \"y\" dims: 1 }"),
       "output 'y' (output[1].data_type) is not set"},
      {"empty dims", With("input { name: \"x\" data_type: TYPE_FP32 }"),
       "input 'x' (input[1].dims) is empty; expected at least one dim"},
      {"zero dim",
       With("input { name: \"x\" data_type: TYPE_FP32 dims: [ 2, 0 ] }"),
       "input 'x' (input[1].dims[1]) is 0; expected a size >= 1, or -1 for "
       "any size"},
      {"negative dim",
       With("output { name: \"y\" data_type: TYPE_FP32 dims: [ -2 ] }"),
       "output 'y' (output[1].dims[0]) is -2"},
      {"bad reshape dim",
       With("input { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] "
            "reshape { shape: [ 0, 4 ] } }"),
       "input 'x' (input[1].reshape.shape[0]) is 0"},
      {"reshape count mismatch",
       With("input { name: \"x\" data_type: TYPE_FP32 dims: [ 2, 3 ] "
            "reshape { shape: [ 5 ] } }"),
       "input 'x' (input[1].reshape.shape) [5] has 5 elements but dims "
       "[2,3] has 6; expected the same element count"},
      {"scalar reshape of two elements",
       With("output { name: \"y\" data_type: TYPE_FP32 dims: [ 2 ] "
            "reshape { } }"),
       "[] has 1 elements but dims [2] has 2"},
      {"negative instance count",
       With("instance_group { count: -1 kind: KIND_CPU }"),
       "instance_group[0].count is -1; expected 1 or more"},
      {"bad instance kind", With("instance_group { count: 1 kind: 7 }"),
       "instance_group[0].kind is 7; expected KIND_CPU, KIND_GPU or "
       "KIND_AUTO"},
      {"negative gpu",
       With("instance_group { kind: KIND_GPU gpus: [ 0, -1 ] }"),
       "instance_group[0].gpus[1] is -1; expected a GPU id >= 0"},
      {"gpus on cpu group",
       With("instance_group { kind: KIND_CPU gpus: [ 0 ] }"),
       "instance_group[0].gpus is set on a KIND_CPU group"},
      {"dynamic batching without batching",
       With("max_batch_size: 0 dynamic_batching { }"),
       "dynamic_batching is set but max_batch_size is 0; expected "
       "max_batch_size >= 1"},
      {"preferred batch size too large",
       With("max_batch_size: 4 dynamic_batching { preferred_batch_size: "
            "[ 2, 8 ] }"),
       "dynamic_batching.preferred_batch_size[1] is 8; expected 1..4 "
       "(max_batch_size)"},
      {"preferred batch size zero",
       With("max_batch_size: 4 dynamic_batching { preferred_batch_size: 0 }"),
       "dynamic_batching.preferred_batch_size[0] is 0; expected 1..4"},
      {"absurd queue delay",
       With("max_batch_size: 4 dynamic_batching { "
            "max_queue_delay_microseconds: 10000001 }"),
       "dynamic_batching.max_queue_delay_microseconds is 10000001; expected "
       "at most 10000000"},
      {"default level without levels",
       With("max_batch_size: 4 dynamic_batching { default_priority_level: 1 "
            "}"),
       "dynamic_batching.default_priority_level is 1 but priority_levels is "
       "0"},
      {"default level beyond levels",
       With("max_batch_size: 4 dynamic_batching { priority_levels: 2 "
            "default_priority_level: 3 }"),
       "dynamic_batching.default_priority_level is 3; expected 1..2"},
      {"default level zero with levels",
       With("max_batch_size: 4 dynamic_batching { priority_levels: 2 }"),
       "dynamic_batching.default_priority_level is 0; expected 1..2"},
      {"queue policy key beyond levels",
       With("max_batch_size: 4 dynamic_batching { priority_levels: 2 "
            "default_priority_level: 1 priority_queue_policy { key: 3 value "
            "{ } } }"),
       "dynamic_batching.priority_queue_policy[3] is not a priority level; "
       "expected 1..2"},
      {"queue policy key zero",
       With("max_batch_size: 4 dynamic_batching { priority_levels: 2 "
            "default_priority_level: 1 priority_queue_policy { key: 0 value "
            "{ } } }"),
       "dynamic_batching.priority_queue_policy[0] is not a priority level"},
      {"queue policy without levels",
       With("max_batch_size: 4 dynamic_batching { priority_queue_policy { "
            "key: 1 value { } } }"),
       "dynamic_batching.priority_queue_policy[1] is set but priority_levels "
       "is 0"},
      {"latest zero versions", With("version_policy { latest { } }"),
       "version_policy.latest.num_versions is 0; expected 1 or more"},
      {"specific without versions", With("version_policy { specific { } }"),
       "version_policy.specific.versions is empty"},
      {"specific negative version",
       With("version_policy { specific { versions: [ 1, -3 ] } }"),
       "version_policy.specific.versions[1] is -3"},
      {"specific repeated version",
       With("version_policy { specific { versions: [ 2, 2 ] } }"),
       "version_policy.specific.versions[1] repeats version 2"},
      {"warmup without name",
       With("model_warmup { batch_size: 1 inputs { key: \"in\" value { "
            "data_type: TYPE_FP32 dims: [ 2, 5 ] zero_data: true } } }"),
       "model_warmup[0].name is empty"},
      {"warmup batch beyond max",
       With("max_batch_size: 2 model_warmup { name: \"w\" batch_size: 3 "
            "inputs { key: \"in\" value { data_type: TYPE_FP32 dims: [ 2, 5 "
            "] zero_data: true } } }"),
       "model_warmup[0].batch_size is 3; expected 1..2 (max_batch_size)"},
      {"warmup batch on non-batching model",
       With("model_warmup { name: \"w\" batch_size: 2 inputs { key: \"in\" "
            "value { data_type: TYPE_FP32 dims: [ 2, 5 ] zero_data: true } } "
            "}"),
       "model_warmup[0].batch_size is 2; expected 1..1 (the model does not "
       "batch)"},
      {"warmup batch zero",
       With("model_warmup { name: \"w\" batch_size: 0 inputs { key: \"in\" "
            "value { data_type: TYPE_FP32 dims: [ 2, 5 ] zero_data: true } } "
            "}"),
       "model_warmup[0].batch_size is 0"},
      {"warmup unknown input",
       With("model_warmup { name: \"w\" batch_size: 1 inputs { key: \"in\" "
            "value { data_type: TYPE_FP32 dims: [ 2, 5 ] zero_data: true } } "
            "inputs { key: \"nope\" value { data_type: TYPE_FP32 dims: 1 "
            "zero_data: true } } }"),
       "model_warmup[0].inputs['nope'] is not an input of the model"},
      {"warmup wrong datatype",
       With("model_warmup { name: \"w\" batch_size: 1 inputs { key: \"in\" "
            "value { data_type: TYPE_INT32 dims: [ 2, 5 ] zero_data: true } } "
            "}"),
       "model_warmup[0].inputs['in'].data_type is TYPE_INT32; expected "
       "TYPE_FP32"},
      {"warmup wrong dims",
       With("model_warmup { name: \"w\" batch_size: 1 inputs { key: \"in\" "
            "value { data_type: TYPE_FP32 dims: [ 3, 5 ] zero_data: true } } "
            "}"),
       "model_warmup[0].inputs['in'].dims is [3,5]; expected concrete sizes "
       "matching the input's dims [2,-1]"},
      {"warmup wildcard dims",
       With("model_warmup { name: \"w\" batch_size: 1 inputs { key: \"in\" "
            "value { data_type: TYPE_FP32 dims: [ 2, -1 ] zero_data: true } } "
            "}"),
       "model_warmup[0].inputs['in'].dims is [2,-1]"},
      {"warmup without data source",
       With("model_warmup { name: \"w\" batch_size: 1 inputs { key: \"in\" "
            "value { data_type: TYPE_FP32 dims: [ 2, 5 ] } } }"),
       "model_warmup[0].inputs['in'] has no data source"},
      {"warmup missing required input",
       With("model_warmup { name: \"w\" batch_size: 1 }"),
       "model_warmup[0].inputs lacks input 'in'; expected every required "
       "input"},
  };
}

INSTANTIATE_TEST_SUITE_P(Cases, BadConfigTest, ::testing::ValuesIn(BadCases()));

TEST(ConfigValidatorTest, ReportsEveryProblemAtOnce) {
  absl::Status status = ValidateModelConfig(
      With("max_batch_size: -3 instance_group { count: -1 }"), "m");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("max_batch_size is -3"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("instance_group[0].count is -1"));
}

TEST(ConfigValidatorTest, OptionalInputMayBeLeftOutOfWarmup) {
  absl::Status status = ValidateModelConfig(
      With("input { name: \"opt\" data_type: TYPE_FP32 dims: 1 optional: "
           "true } model_warmup { name: \"w\" batch_size: 1 inputs { key: "
           "\"in\" value { data_type: TYPE_FP32 dims: [ 2, 7 ] random_data: "
           "true } } }"),
      "m");
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ConfigValidatorTest, QueueBudgetAndLatencyTargetAreMilliseconds) {
  auto param = [](const std::string& key, const std::string& value) {
    return With("parameters { key: \"" + key + "\" value { string_value: \"" +
                value + "\" } }\n");
  };
  EXPECT_THAT(
      std::string(
          ValidateModelConfig(param("queue_budget_ms", "soon"), "m").message()),
      HasSubstr("parameters[queue_budget_ms] is 'soon'; expected a number of "
                "milliseconds"));
  EXPECT_THAT(
      std::string(
          ValidateModelConfig(param("queue_budget_ms", "-1"), "m").message()),
      HasSubstr("parameters[queue_budget_ms] is '-1'"));
  EXPECT_TRUE(ValidateModelConfig(param("queue_budget_ms", "250"), "m").ok());
  EXPECT_TRUE(ValidateModelConfig(param("queue_budget_ms", "0"), "m").ok());
  EXPECT_THAT(
      std::string(
          ValidateModelConfig(param("latency_target_ms", "0"), "m").message()),
      HasSubstr("parameters[latency_target_ms] is '0'; expected a "
                "positive number"));
  EXPECT_TRUE(ValidateModelConfig(param("latency_target_ms", "500"), "m").ok());
}

TEST(ConfigValidatorTest, InstanceCountsAreBoundedBeforeAnythingIsCreated) {
  EXPECT_THAT(
      std::string(ValidateModelConfig(
                      With("instance_group { count: 2000000000 }\n"), "m")
                      .message()),
      HasSubstr("instance_group[0].count is 2000000000; expected at most 256"));
  // Groups that each pass can still ask for too many together.
  EXPECT_THAT(
      std::string(ValidateModelConfig(With("instance_group { count: 200 }\n"
                                           "instance_group { count: 200 }\n"),
                                      "m")
                      .message()),
      HasSubstr("instance_group asks for 400 instances in all"));
  EXPECT_TRUE(
      ValidateModelConfig(With("instance_group { count: 256 }\n"), "m").ok());
}

TEST(ConfigValidatorTest, TheModelFileStaysInItsVersionDirectory) {
  for (const char* name :
       {"../../etc/passwd", "/etc/passwd", "..", ".", "sub/model.onnx"}) {
    const std::string config =
        std::string("default_model_filename: \"") + name + "\"\n";
    EXPECT_THAT(std::string(ValidateModelConfig(With(config), "m").message()),
                HasSubstr("default_model_filename must be a file name inside "
                          "the version directory"))
        << name;
  }
  EXPECT_TRUE(
      ValidateModelConfig(With("default_model_filename: \"net.onnx\"\n"), "m")
          .ok());
}

TEST(ConfigValidatorTest, DimsWhoseProductOverflowsAreRefused) {
  const std::string m(
      ValidateModelConfig(
          With("input { name: \"big\" data_type: TYPE_FP32 dims: [ "
               "4294967296, 4294967296 ] }\n",
               /*add_tensors=*/false),
          "m")
          .message());
  EXPECT_THAT(m, HasSubstr("has more than 2^40 elements"));
}

TEST(ConfigValidatorTest, EnsembleFields) {
  inference::ModelConfig ok = With(
      "platform: \"ensemble\"\n"
      "ensemble_scheduling { step { model_name: \"a\" } }\n");
  EXPECT_TRUE(ValidateModelConfig(ok, "m").ok());
  inference::ModelConfig bad = With(
      "platform: \"ensemble\"\n"
      "instance_group { count: 1 }\n"
      "dynamic_batching { }\n");
  const std::string m(ValidateModelConfig(bad, "m").message());
  EXPECT_THAT(m, HasSubstr("ensemble_scheduling has no step"));
  EXPECT_THAT(m, HasSubstr("instance_group is set; an ensemble has no "
                           "instances of its own"));
  EXPECT_THAT(m, HasSubstr("dynamic_batching is set; an ensemble does not "
                           "batch, its steps do"));
  inference::ModelConfig stray =
      With("ensemble_scheduling { step { model_name: \"a\" } }\n");
  EXPECT_THAT(std::string(ValidateModelConfig(stray, "m").message()),
              HasSubstr("ensemble_scheduling is set, but platform is not "
                        "'ensemble'"));
}

TEST(ConfigValidatorTest, EmptyDirectoryNameSkipsTheNameCheck) {
  EXPECT_TRUE(ValidateModelConfig(With(""), "").ok());
}

}  // namespace
}  // namespace serval
