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
  ASSERT_EQ(spec->OutputIndex("c"), 0u);
  EXPECT_EQ(spec->outputs[0].datatype, DataType::kBf16);
  ASSERT_TRUE(spec->outputs[0].reshape.has_value());
  EXPECT_TRUE(spec->outputs[0].reshape->empty());
  EXPECT_EQ(spec->InputIndex("b"), 1u);
  EXPECT_EQ(spec->InputIndex("c"), std::nullopt);
  EXPECT_EQ(spec->OutputIndex("a"), std::nullopt);
  EXPECT_TRUE(spec->batching());
  EXPECT_THAT(spec->FullInputShape(0), ElementsAre(-1, -1, 4));
}

TEST(ModelSpecTest, ReshapeMapsShapesBetweenClientAndBackend) {
  ModelSpec spec;
  spec.max_batch_size = 8;
  spec.inputs.push_back({"in", DataType::kFp32, {3, 4}, Shape{12}});
  spec.outputs.push_back({"out", DataType::kFp32, {1000}, Shape{1000, 1, 1}});
  spec.outputs.push_back({"var", DataType::kFp32, {-1}, Shape{-1, 1}});
  EXPECT_THAT(spec.BackendInputShape(0, {5, 3, 4}), ElementsAre(5, 12));
  EXPECT_THAT(spec.BackendOutputShape(0), ElementsAre(-1, 1000, 1, 1));
  EXPECT_THAT(spec.ClientOutputShape(0, {5, 1000, 1, 1}), ElementsAre(5, 1000));
  // Variable dims have no single inverse: the backend's shape is kept.
  EXPECT_THAT(spec.ClientOutputShape(1, {5, 7, 1}), ElementsAre(5, 7, 1));
}

TEST(ModelSpecTest, UnvalidatedConfigIsInternalError) {
  auto spec = ModelSpec::FromConfig(
      ParseOrDie("name: \"m\" input { name: \"a\" dims: 1 }"));
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace serval
