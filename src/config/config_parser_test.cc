#include "config/config_parser.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A realistic Triton ONNX config as found in model repositories.
constexpr char kTritonResnet[] = R"pb(
  name: "resnet50"
  platform: "onnxruntime_onnx"
  max_batch_size: 32 input
  [ {
    name: "input"
    data_type: TYPE_FP32
    format: FORMAT_NCHW
    dims: [ 3, 224, 224 ]
  }] output
  [ {
    name: "output"
    data_type: TYPE_FP32
    dims: [ 1000 ]
    label_filename: "labels.txt"
  }] instance_group
  [ {
    count: 2
    kind: KIND_GPU
    gpus: [ 0, 1 ]
  }]
  dynamic_batching {
    preferred_batch_size: [ 8, 16 ]
    max_queue_delay_microseconds: 100
  }
  optimization {
    execution_accelerators {
      gpu_execution_accelerator:
      [ { name: "tensorrt" }]
    }
  }
)pb";

// Every field serval implements, in one config.
constexpr char kEverySupportedField[] = R"pb(
  name: "full"
  backend: "onnxruntime"
  default_model_filename: "net.onnx"
  max_batch_size: 8
  version_policy: { specific: { versions: [ 1, 3 ] } }
  input {
    name: "x"
    data_type: TYPE_FP32
    dims: [ -1, 4 ]
    reshape: { shape: [ -1, 2, 2 ] }
    optional: true
  }
  input {
    name: "y"
    data_type: TYPE_STRING
    dims: [ 1 ]
  }
  output {
    name: "z"
    data_type: TYPE_BF16
    dims: [ 4 ]
  }
  instance_group { name: "cpus" count: 3 kind: KIND_CPU }
  instance_group {
    count: 1
    kind: KIND_GPU
    gpus: [ 0 ]
  }
  dynamic_batching {
    preferred_batch_size: [ 4, 8 ]
    max_queue_delay_microseconds: 500
    preserve_ordering: true
    priority_levels: 3
    default_priority_level: 2
    default_queue_policy {
      timeout_action: DELAY
      default_timeout_microseconds: 1000
      allow_timeout_override: true
      max_queue_size: 64
    }
    priority_queue_policy {
      key: 1
      value { timeout_action: REJECT max_queue_size: 16 }
    }
  }
  model_warmup {
    name: "zeros"
    batch_size: 2
    count: 3
    inputs {
      key: "x"
      value {
        data_type: TYPE_FP32
        dims: [ 3, 4 ]
        zero_data: true
      }
    }
    inputs {
      key: "y"
      value {
        data_type: TYPE_STRING
        dims: [ 1 ]
        random_data: true
      }
    }
  }
  model_warmup {
    name: "file"
    batch_size: 1
    inputs {
      key: "y"
      value {
        data_type: TYPE_STRING
        dims: [ 1 ]
        input_data_file: "y.bin"
      }
    }
  }
  parameters {
    key: "delay_us"
    value { string_value: "250" }
  }
)pb";

TEST(ConfigParserTest, ParsesRealisticTritonConfig) {
  auto config = ParseModelConfigText(kTritonResnet, "resnet50/config.pbtxt");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name(), "resnet50");
  EXPECT_EQ(config->platform(), "onnxruntime_onnx");
  EXPECT_EQ(config->max_batch_size(), 32);
  ASSERT_EQ(config->input_size(), 1);
  EXPECT_EQ(config->input(0).format(), inference::ModelInput::FORMAT_NCHW);
  EXPECT_THAT(config->input(0).dims(), ::testing::ElementsAre(3, 224, 224));
  EXPECT_EQ(config->output(0).label_filename(), "labels.txt");
  EXPECT_EQ(config->instance_group(0).kind(),
            inference::ModelInstanceGroup::KIND_GPU);
  EXPECT_THAT(config->instance_group(0).gpus(), ::testing::ElementsAre(0, 1));
  EXPECT_THAT(config->dynamic_batching().preferred_batch_size(),
              ::testing::ElementsAre(8, 16));
  EXPECT_EQ(config->optimization()
                .execution_accelerators()
                .gpu_execution_accelerator(0)
                .name(),
            "tensorrt");
}

TEST(ConfigParserTest, ParsesEverySupportedField) {
  auto config = ParseModelConfigText(kEverySupportedField, "full");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->backend(), "onnxruntime");
  EXPECT_EQ(config->default_model_filename(), "net.onnx");
  EXPECT_THAT(config->version_policy().specific().versions(),
              ::testing::ElementsAre(1, 3));
  EXPECT_TRUE(config->input(0).optional());
  EXPECT_THAT(config->input(0).reshape().shape(),
              ::testing::ElementsAre(-1, 2, 2));
  EXPECT_EQ(config->input(1).data_type(), inference::TYPE_STRING);
  EXPECT_EQ(config->output(0).data_type(), inference::TYPE_BF16);
  EXPECT_EQ(config->instance_group(0).name(), "cpus");
  EXPECT_EQ(config->instance_group(0).count(), 3);
  const auto& batching = config->dynamic_batching();
  EXPECT_TRUE(batching.preserve_ordering());
  EXPECT_EQ(batching.priority_levels(), 3u);
  EXPECT_EQ(batching.default_priority_level(), 2u);
  EXPECT_EQ(batching.default_queue_policy().timeout_action(),
            inference::ModelQueuePolicy::DELAY);
  EXPECT_EQ(batching.default_queue_policy().max_queue_size(), 64u);
  EXPECT_EQ(batching.priority_queue_policy().at(1).max_queue_size(), 16u);
  ASSERT_EQ(config->model_warmup_size(), 2);
  EXPECT_TRUE(config->model_warmup(0).inputs().at("x").zero_data());
  EXPECT_TRUE(config->model_warmup(0).inputs().at("y").random_data());
  EXPECT_EQ(config->model_warmup(1).inputs().at("y").input_data_file(),
            "y.bin");
  EXPECT_EQ(config->parameters().at("delay_us").string_value(), "250");
}

TEST(ConfigParserTest, MaxBatchSizeRemembersWhetherItWasWritten) {
  auto unset = ParseModelConfigText("name: \"m\"", "m");
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->has_max_batch_size());
  auto zero = ParseModelConfigText("max_batch_size: 0", "m");
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->has_max_batch_size());
  EXPECT_EQ(zero->max_batch_size(), 0);
}

TEST(ConfigParserTest, SyntaxErrorNamesFileLineAndColumn) {
  auto config = ParseModelConfigText("name: \"m\"\nmax_batch_size: lots\n",
                                     "repo/m/config.pbtxt");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              StartsWith("repo/m/config.pbtxt:2:17: "));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("integer"));
}

TEST(ConfigParserTest, UnknownFieldIsAnErrorNamingIt) {
  auto config =
      ParseModelConfigText("name: \"m\"\n  max_batch: 4\n", "c.pbtxt");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()), StartsWith("c.pbtxt:2:"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("max_batch"));
}

TEST(ConfigParserTest, UnknownEnumValueIsAnError) {
  auto config = ParseModelConfigText(
      "input { name: \"a\" data_type: TYPE_FLOAT dims: 1 }", "c.pbtxt");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()), StartsWith("c.pbtxt:1:"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("TYPE_FLOAT"));
}

// A fresh directory under the test temp dir, removed at the end.
class ModelDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("config_parser_test_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteConfig(const std::string& text) {
    std::ofstream(dir_ / "config.pbtxt") << text;
  }

  std::filesystem::path dir_;
};

TEST_F(ModelDirTest, MissingConfigIsAllowedAndDistinguishable) {
  auto config = ReadModelConfig(dir_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->has_value());
}

TEST_F(ModelDirTest, ReadsConfigFile) {
  WriteConfig(kTritonResnet);
  auto config = ReadModelConfig(dir_);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->has_value());
  EXPECT_EQ((*config)->name(), "resnet50");
}

TEST_F(ModelDirTest, EmptyConfigFileIsAnEmptyConfig) {
  WriteConfig("");
  auto config = ReadModelConfig(dir_);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->has_value());
  EXPECT_EQ((*config)->input_size(), 0);
}

TEST_F(ModelDirTest, MalformedFileErrorNamesItsPath) {
  WriteConfig("name: \"m\"\ninput {\n");
  auto config = ReadModelConfig(dir_);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              StartsWith((dir_ / "config.pbtxt").string() + ":"));
}

TEST_F(ModelDirTest, ConfigThatIsADirectoryIsAnError) {
  std::filesystem::create_directory(dir_ / "config.pbtxt");
  auto config = ReadModelConfig(dir_);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace serval
