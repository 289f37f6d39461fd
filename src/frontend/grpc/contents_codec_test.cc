#include "frontend/grpc/contents_codec.h"

#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::testing::HasSubstr;

template <typename T>
std::vector<T> Unpack(const TensorBuffer& buffer) {
  std::vector<T> out(buffer.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), buffer.data(), buffer.size());
  return out;
}

TEST(PackTypedContentsTest, NarrowsIntContentsToInt8) {
  inference::InferTensorContents c;
  c.add_int_contents(-128);
  c.add_int_contents(127);
  absl::StatusOr<TensorBuffer> b = PackTypedContents(DataType::kInt8, 2, c);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Unpack<int8_t>(*b), (std::vector<int8_t>{-128, 127}));
}

TEST(PackTypedContentsTest, RefusesValueOutsideUint8) {
  inference::InferTensorContents c;
  c.add_uint_contents(300);
  absl::StatusOr<TensorBuffer> b = PackTypedContents(DataType::kUint8, 1, c);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(b.status().message(), HasSubstr("value 300"));
  EXPECT_THAT(b.status().message(), HasSubstr("UINT8"));
}

TEST(PackTypedContentsTest, PacksEveryNumericType) {
  inference::InferTensorContents c;
  c.add_fp32_contents(1.5f);
  c.add_fp32_contents(-2.0f);
  EXPECT_EQ(Unpack<float>(*PackTypedContents(DataType::kFp32, 2, c)),
            (std::vector<float>{1.5f, -2.0f}));
  inference::InferTensorContents d;
  d.add_fp64_contents(0.25);
  EXPECT_EQ(Unpack<double>(*PackTypedContents(DataType::kFp64, 1, d)),
            std::vector<double>{0.25});
  inference::InferTensorContents u;
  u.add_uint64_contents(~uint64_t{0});
  EXPECT_EQ(Unpack<uint64_t>(*PackTypedContents(DataType::kUint64, 1, u)),
            std::vector<uint64_t>{~uint64_t{0}});
  inference::InferTensorContents i;
  i.add_int64_contents(-5);
  EXPECT_EQ(Unpack<int64_t>(*PackTypedContents(DataType::kInt64, 1, i)),
            std::vector<int64_t>{-5});
  inference::InferTensorContents s;
  s.add_uint_contents(65535);
  EXPECT_EQ(Unpack<uint16_t>(*PackTypedContents(DataType::kUint16, 1, s)),
            std::vector<uint16_t>{65535});
  inference::InferTensorContents b;
  b.add_bool_contents(true);
  b.add_bool_contents(false);
  EXPECT_EQ(Unpack<uint8_t>(*PackTypedContents(DataType::kBool, 2, b)),
            (std::vector<uint8_t>{1, 0}));
}

TEST(PackTypedContentsTest, SerializesBytesWithLengthPrefixes) {
  inference::InferTensorContents c;
  c.add_bytes_contents("ab");
  c.add_bytes_contents("");
  absl::StatusOr<TensorBuffer> b = PackTypedContents(DataType::kBytes, 2, c);
  ASSERT_TRUE(b.ok());
  std::string expected;
  AppendBytesElement("ab", &expected);
  AppendBytesElement("", &expected);
  EXPECT_EQ(std::string(b->data(), b->size()), expected);
}

TEST(PackTypedContentsTest, NamesTheExpectedAndTheGivenField) {
  inference::InferTensorContents c;
  c.add_fp32_contents(1.0f);
  absl::StatusOr<TensorBuffer> b = PackTypedContents(DataType::kInt32, 1, c);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(b.status().message(), HasSubstr("int_contents"));
  EXPECT_THAT(b.status().message(), HasSubstr("fp32_contents"));
}

TEST(PackTypedContentsTest, RefusesWrongCount) {
  inference::InferTensorContents c;
  c.add_int64_contents(1);
  absl::StatusOr<TensorBuffer> b = PackTypedContents(DataType::kInt64, 3, c);
  EXPECT_THAT(b.status().message(), HasSubstr("expected 3 values"));
  EXPECT_THAT(b.status().message(), HasSubstr("got 1"));
}

TEST(PackTypedContentsTest, Fp16AndBf16OnlyTravelRaw) {
  inference::InferTensorContents c;
  for (DataType t : {DataType::kFp16, DataType::kBf16}) {
    absl::StatusOr<TensorBuffer> b = PackTypedContents(t, 0, c);
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(b.status().message(), HasSubstr("raw_input_contents"));
  }
}

}  // namespace
}  // namespace serval
