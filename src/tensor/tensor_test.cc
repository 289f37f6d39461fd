#include "tensor/tensor.h"

#include <cstdint>
#include <cstring>

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

}  // namespace
}  // namespace serval
