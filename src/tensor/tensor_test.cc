#include "tensor/tensor.h"

#include <cstdint>
#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(TensorBufferTest, ResizeKeepsContentsAndAlignment) {
  TensorBuffer b(10);
  std::memcpy(b.data(), "0123456789", 10);
  b.Resize(1000);
  EXPECT_EQ(std::memcmp(b.data(), "0123456789", 10), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);
  const char* before = b.data();
  b.Resize(5);  // shrinking reuses the allocation
  EXPECT_EQ(b.data(), before);
  EXPECT_EQ(b.size(), 5u);
}

TEST(BytesTest, SerializeAndCount) {
  std::string s;
  AppendBytesElement("abc", &s);
  AppendBytesElement("", &s);
  AppendBytesElement("hello", &s);
  EXPECT_EQ(s.size(), 4u * 3 + 8);
  EXPECT_EQ(*CountBytesElements(s), 3);
}

TEST(BytesTest, TruncatedInputIsAnError) {
  std::string s;
  AppendBytesElement("abcdef", &s);
  auto r = CountBytesElements(std::string_view(s).substr(0, 7));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("claims 6 bytes"), std::string::npos);
  auto p = CountBytesElements(std::string_view(s).substr(0, 2));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("truncated"), std::string::npos);
}

using ::testing::HasSubstr;

TEST(CheckTensorBytesTest, ChecksByteSize) {
  const int64_t shape[] = {2, 3};
  EXPECT_TRUE(
      CheckTensorBytes(DataType::kFp32, shape, std::string(24, '\0')).ok());
  absl::Status s =
      CheckTensorBytes(DataType::kFp32, shape, std::string(20, '\0'));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("needs 24 bytes"));
  EXPECT_THAT(s.message(), HasSubstr("got 20"));
}

TEST(CheckTensorBytesTest, ChecksBytesElements) {
  const int64_t shape[] = {2};
  std::string raw;
  AppendBytesElement("hello", &raw);
  AppendBytesElement("", &raw);
  EXPECT_TRUE(CheckTensorBytes(DataType::kBytes, shape, raw).ok());
  const int64_t three[] = {3};
  EXPECT_THAT(CheckTensorBytes(DataType::kBytes, three, raw).message(),
              HasSubstr("needs 3 BYTES elements"));
  EXPECT_THAT(
      CheckTensorBytes(DataType::kBytes, shape, raw.substr(0, raw.size() - 1))
          .message(),
      HasSubstr("malformed BYTES"));
}

}  // namespace
}  // namespace serval
