#include "tensor/shape.h"

#include <limits>

#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(ShapeTest, ElementCount) {
  EXPECT_EQ(*ElementCount(Shape{}), 1);
  EXPECT_EQ(*ElementCount(Shape{2, 3, 4}), 24);
  EXPECT_EQ(*ElementCount(Shape{2, 0, 4}), 0);
}

TEST(ShapeTest, NegativeDimIsAnError) {
  auto c = ElementCount(Shape{2, -1});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("negative"), std::string::npos);
}

TEST(ShapeTest, OverflowIsDetected) {
  const int64_t big = std::numeric_limits<int64_t>::max() / 2;
  auto c = ElementCount(Shape{big, 3});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(
                "causes total element count to exceed maximum size of"),
            std::string::npos);
  auto b = ByteSize(DataType::kFp64, Shape{big});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("too large"), std::string::npos);
  EXPECT_EQ(*ByteSize(DataType::kFp32, Shape{2, 3}), 24);
  EXPECT_FALSE(ByteSize(DataType::kBytes, Shape{2}).ok());
}

TEST(ShapeTest, MatchesWithWildcards) {
  EXPECT_TRUE(ShapeMatches(Shape{-1, 3}, Shape{7, 3}));
  EXPECT_FALSE(ShapeMatches(Shape{-1, 3}, Shape{7, 4}));
  EXPECT_FALSE(ShapeMatches(Shape{-1, 3}, Shape{7, 3, 1}));
  EXPECT_EQ(ShapeToString(Shape{1, 3, 224}), "[1,3,224]");
  // A client's 100,000 dims do not make a 200 KB message.
  const std::string long_shape = ShapeToString(Shape(100000, 1));
  EXPECT_EQ(long_shape, "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,... (100000 dims)]");
}

}  // namespace
}  // namespace serval
