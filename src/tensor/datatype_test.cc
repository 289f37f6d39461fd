#include "tensor/datatype.h"

#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(DataTypeTest, NamesRoundTripForEveryType) {
  for (DataType t : kAllDataTypes) {
    EXPECT_EQ(DataTypeFromApiName(ApiName(t)), t) << ApiName(t);
    EXPECT_EQ(DataTypeFromConfigName(ConfigName(t)), t) << ConfigName(t);
    EXPECT_EQ(DataTypeFromInt(static_cast<int>(t)), t);
  }
}

TEST(DataTypeTest, SizesAndTritonNames) {
  EXPECT_EQ(ElementSize(DataType::kBool), 1u);
  EXPECT_EQ(ElementSize(DataType::kFp16), 2u);
  EXPECT_EQ(ElementSize(DataType::kBf16), 2u);
  EXPECT_EQ(ElementSize(DataType::kFp32), 4u);
  EXPECT_EQ(ElementSize(DataType::kInt64), 8u);
  EXPECT_EQ(ElementSize(DataType::kBytes), 0u);
  EXPECT_EQ(ConfigName(DataType::kBytes), "TYPE_STRING");
  EXPECT_EQ(ApiName(DataType::kBytes), "BYTES");
}

TEST(DataTypeTest, UnknownNamesAreRejected) {
  EXPECT_FALSE(DataTypeFromApiName("FLOAT").has_value());
  EXPECT_FALSE(DataTypeFromApiName("fp32").has_value());
  EXPECT_FALSE(DataTypeFromConfigName("FP32").has_value());
  EXPECT_FALSE(DataTypeFromInt(0).has_value());
  EXPECT_FALSE(DataTypeFromInt(15).has_value());
}

}  // namespace
}  // namespace serval
