#include "config/unsupported_fields.h"

#include <string>

#include "config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::serval::testing::ParseOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kBase[] = R"pb(
  name: "m"
  input { name: "i" data_type: TYPE_FP32 dims: 1 }
  output { name: "o" data_type: TYPE_FP32 dims: 1 }
)pb";

struct Case {
  std::string extra;
  std::string field;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.field; }

class UnsupportedErrorTest : public ::testing::TestWithParam<Case> {};

TEST_P(UnsupportedErrorTest, IsAnErrorNamingTheField) {
  auto result =
      CheckUnsupportedFields(ParseOrDie(std::string(kBase) + GetParam().extra));
  ASSERT_FALSE(result.ok()) << GetParam().field;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("model 'm': serval does not implement '" +
                        GetParam().field + "'"));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, UnsupportedErrorTest,
    ::testing::Values(
        Case{"sequence_batching { }", "sequence_batching"},
        Case{"batch_input { target_name: \"t\" }", "batch_input"},
        Case{"batch_output { target_name: \"t\" }", "batch_output"},
        Case{"input { name: \"s\" data_type: TYPE_INT32 dims: 1 "
             "is_shape_tensor: true }",
             "input[1].is_shape_tensor"},
        Case{"input { name: \"r\" data_type: TYPE_INT32 dims: 1 "
             "allow_ragged_batch: true }",
             "input[1].allow_ragged_batch"},
        Case{"input { name: \"n\" data_type: TYPE_INT32 dims: 1 "
             "is_non_linear_format_io: true }",
             "input[1].is_non_linear_format_io"},
        Case{"output { name: \"s\" data_type: TYPE_INT32 dims: 1 "
             "is_shape_tensor: true }",
             "output[1].is_shape_tensor"},
        Case{"output { name: \"n\" data_type: TYPE_INT32 dims: 1 "
             "is_non_linear_format_io: true }",
             "output[1].is_non_linear_format_io"},
        Case{"model_transaction_policy { decoupled: true }",
             "model_transaction_policy.decoupled"},
        Case{"model_repository_agents { agents { name: \"checksum\" } }",
             "model_repository_agents"},
        Case{"runtime: \"libcustom.so\"", "runtime"},
        Case{"model_operations { op_library_filename: \"ops.so\" }",
             "model_operations"},
        Case{"instance_group { kind: KIND_MODEL }", "instance_group[0].kind"}));

class UnsupportedWarningTest : public ::testing::TestWithParam<Case> {};

TEST_P(UnsupportedWarningTest, IsAWarningNamingTheField) {
  auto result =
      CheckUnsupportedFields(ParseOrDie(std::string(kBase) + GetParam().extra));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(*result,
              ElementsAre("model 'm': field '" + GetParam().field +
                          "' is not implemented by serval and is ignored"));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, UnsupportedWarningTest,
    ::testing::Values(
        Case{"optimization { graph { level: 1 } }", "optimization"},
        Case{"response_cache { enable: true }", "response_cache"},
        Case{"instance_group { rate_limiter { priority: 2 } }",
             "instance_group[0].rate_limiter"},
        Case{"instance_group { host_policy: \"numa0\" }",
             "instance_group[0].host_policy"},
        Case{"instance_group { secondary_devices { device_id: 0 } }",
             "instance_group[0].secondary_devices"},
        Case{"instance_group { passive: true }", "instance_group[0].passive"},
        Case{"instance_group { profile: \"0\" }", "instance_group[0].profile"},
        Case{"cc_model_filenames { key: \"7.5\" value: \"m.plan\" }",
             "cc_model_filenames"},
        Case{"metric_tags { key: \"team\" value: \"a\" }", "metric_tags"},
        Case{"model_metrics { }", "model_metrics"}));

TEST(UnsupportedFieldsTest, SupportedFieldsGiveNoWarning) {
  auto result = CheckUnsupportedFields(ParseOrDie(std::string(kBase) + R"pb(
    max_batch_size: 4
    backend: "onnxruntime"
    input {
      name: "x"
      data_type: TYPE_FP32
      dims: [ 4 ]
      reshape { shape: [ 2, 2 ] }
      optional: true
    }
    instance_group {
      name: "g"
      count: 2
      kind: KIND_GPU
      gpus: [ 0 ]
    }
    dynamic_batching {
      preferred_batch_size: 2
      max_queue_delay_microseconds: 5
      preserve_ordering: true
      priority_levels: 2
      default_priority_level: 1
      default_queue_policy {
        timeout_action: DELAY
        default_timeout_microseconds: 9
        allow_timeout_override: true
        max_queue_size: 3
      }
      priority_queue_policy {
        key: 1
        value { max_queue_size: 1 }
      }
    }
    version_policy { all {} }
    model_warmup { name: "w" batch_size: 1 }
    parameters {
      key: "k"
      value { string_value: "v" }
    }
    default_model_filename: "x.onnx"
    response_cache { enable: false }
    model_transaction_policy { decoupled: false }
  )pb"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->empty());
}

TEST(UnsupportedFieldsTest, AllErrorsAreNamedTogether) {
  auto result = CheckUnsupportedFields(
      ParseOrDie(std::string(kBase) + "sequence_batching { } batch_input { } "
                                      "optimization { }"));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("'sequence_batching'"));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("'batch_input'"));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("ignoring it would change results"));
}

}  // namespace
}  // namespace serval
