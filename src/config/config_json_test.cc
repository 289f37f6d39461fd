#include "config/config_json.h"

#include "config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::serval::testing::ParseOrDie;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConfigJsonTest, UsesTritonFieldNamesAndEnumNames) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    name: "m"
    backend: "onnxruntime"
    max_batch_size: 8
    input {
      name: "x"
      data_type: TYPE_FP32
      dims: [ -1, 3 ]
    }
    dynamic_batching { max_queue_delay_microseconds: 100 }
    parameters {
      key: "k"
      value { string_value: "v" }
    }
  )pb");
  auto json = ModelConfigToJson(config);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"max_batch_size\":8"));
  EXPECT_THAT(*json, HasSubstr("\"data_type\":\"TYPE_FP32\""));
  // 64-bit integers are numbers, as Triton's HTTP /config shows them.
  EXPECT_THAT(*json, HasSubstr("\"dims\":[-1,3]"));
  EXPECT_THAT(*json, HasSubstr("\"max_queue_delay_microseconds\":100"));
  EXPECT_THAT(*json,
              HasSubstr("\"parameters\":{\"k\":{\"string_value\":\"v\"}}"));
  EXPECT_THAT(*json, Not(HasSubstr("maxBatchSize")));
}

TEST(ConfigJsonTest, SixtyFourBitNumbersInNestedAndMapFieldsAreNumbers) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    name: "m"
    output {
      name: "y"
      data_type: TYPE_FP32
      dims: [ 2 ]
      reshape { shape: [ 1, 2 ] }
    }
    version_policy { specific { versions: [ 3, 9223372036854775807 ] } }
    dynamic_batching {
      priority_levels: 2
      priority_queue_policy {
        key: 2
        value { default_timeout_microseconds: 18446744073709551615 }
      }
    }
    model_warmup {
      name: "w"
      inputs {
        key: "x"
        value {
          dims: [ 5 ]
          zero_data: true
        }
      }
    }
  )pb");
  auto json = ModelConfigToJson(config);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"shape\":[1,2]"));
  EXPECT_THAT(*json, HasSubstr("\"versions\":[3,9223372036854775807]"));
  EXPECT_THAT(*json, HasSubstr("\"priority_levels\":2"));
  // Map keys stay strings; the values inside are fixed.
  EXPECT_THAT(*json, HasSubstr("\"priority_queue_policy\":{\"2\":{"));
  EXPECT_THAT(
      *json,
      HasSubstr("\"default_timeout_microseconds\":18446744073709551615"));
  EXPECT_THAT(*json, HasSubstr("\"inputs\":{\"x\":{"));
  EXPECT_THAT(*json, HasSubstr("\"dims\":[5]"));
  // And it still parses back to the same message.
  auto back = ModelConfigFromJson(*json, "round trip");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), config.SerializeAsString());
}

TEST(ConfigJsonTest, PrintsDefaultValuedFieldsAsTritonDoes) {
  inference::ModelConfig config = ParseOrDie("name: \"m\" max_batch_size: 0");
  auto json = ModelConfigToJson(config);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"max_batch_size\":0"));
  EXPECT_THAT(*json, HasSubstr("\"platform\":\"\""));
  EXPECT_THAT(*json, HasSubstr("\"input\":[]"));
}

TEST(ConfigJsonTest, RoundTrips) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    name: "m"
    max_batch_size: 2
    input {
      name: "x"
      data_type: TYPE_STRING
      dims: [ 1 ]
      optional: true
    }
    instance_group {
      kind: KIND_GPU
      gpus: [ 1 ]
      count: 2
    }
    version_policy { specific { versions: [ 4 ] } }
  )pb");
  auto json = ModelConfigToJson(config);
  ASSERT_TRUE(json.ok());
  auto back = ModelConfigFromJson(*json, "round trip");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), config.SerializeAsString());
}

TEST(ConfigJsonTest, FromJsonRejectsUnknownFieldsNamingTheSource) {
  auto config = ModelConfigFromJson(R"({"nmae": "m"})", "backend 'x'");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("backend 'x'"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("nmae"));
}

}  // namespace
}  // namespace serval
