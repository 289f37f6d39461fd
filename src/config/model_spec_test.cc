#include "config/model_spec.h"

#include "config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::serval::testing::ParseOrDie;
using ::testing::ElementsAre;

TEST(DataTypeConversionTest, EveryTypeRoundTripsByName) {
  for (DataType type : kAllDataTypes) {
    const inference::DataType proto = ToProtoDataType(type);
    EXPECT_NE(proto, inference::TYPE_INVALID) << ApiName(type);
    EXPECT_EQ(inference::DataType_Name(proto), ConfigName(type));
    EXPECT_EQ(FromProtoDataType(proto), type);
  }
}

TEST(DataTypeConversionTest, StringIsBytes) {
  EXPECT_EQ(FromProtoDataType(inference::TYPE_STRING), DataType::kBytes);
  EXPECT_EQ(ToProtoDataType(DataType::kBytes), inference::TYPE_STRING);
}

TEST(DataTypeConversionTest, InvalidValues) {
  EXPECT_EQ(FromProtoDataType(inference::TYPE_INVALID), std::nullopt);
  EXPECT_EQ(FromProtoDataType(static_cast<inference::DataType>(99)),
            std::nullopt);
  EXPECT_EQ(ToProtoDataType(DataType::kInvalid), inference::TYPE_INVALID);
}

TEST(ModelSpecTest, BuildsFromConfig) {
  auto spec = ModelSpec::FromConfig(ParseOrDie(R"pb(
    name: "m"
    max_batch_size: 4
    input {
      name: "a"
      data_type: TYPE_FP32
      dims: [ -1, 4 ]
      optional: true
    }
    input {
      name: "b"
      data_type: TYPE_INT64
      dims: [ 4 ]
      reshape { shape: [ 2, 2 ] }
    }
    output {
      name: "c"
      data_type: TYPE_BF16
      dims: [ 1 ]
      reshape {}
    }
  )pb"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "m");
  EXPECT_EQ(spec->max_batch_size, 4);
  ASSERT_EQ(spec->inputs.size(), 2u);
  EXPECT_EQ(spec->inputs[0].datatype, DataType::kFp32);
  EXPECT_THAT(spec->inputs[0].dims, ElementsAre(-1, 4));
  EXPECT_TRUE(spec->inputs[0].optional);
  EXPECT_FALSE(spec->inputs[0].reshape.has_value());
  ASSERT_TRUE(spec->inputs[1].reshape.has_value());
  EXPECT_THAT(*spec->inputs[1].reshape, ElementsAre(2, 2));
  ASSERT_NE(spec->FindOutput("c"), nullptr);
  EXPECT_EQ(spec->FindOutput("c")->datatype, DataType::kBf16);
  ASSERT_TRUE(spec->FindOutput("c")->reshape.has_value());
  EXPECT_TRUE(spec->FindOutput("c")->reshape->empty());
  EXPECT_EQ(spec->FindInput("b"), &spec->inputs[1]);
  EXPECT_EQ(spec->FindInput("c"), nullptr);
  EXPECT_EQ(spec->FindOutput("a"), nullptr);
}

TEST(ModelSpecTest, UnvalidatedConfigIsInternalError) {
  auto spec = ModelSpec::FromConfig(
      ParseOrDie("name: \"m\" input { name: \"a\" dims: 1 }"));
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace serval
