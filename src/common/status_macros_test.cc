#include "common/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace serval {
namespace {

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::StatusOr<int> Quarter(int n) {
  ASSIGN_OR_RETURN(int half, Half(n));
  ASSIGN_OR_RETURN(half, Half(half), Annotate(_, "second half"));
  return half;
}

absl::Status CheckEven(int n) {
  RETURN_IF_ERROR(Half(n).status());
  RETURN_IF_ERROR(Half(n / 2).status(), Annotate(_, "n/2"));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> Boxed(int n) {
  if (n < 0) return absl::OutOfRangeError("negative");
  return std::make_unique<int>(n);
}

absl::StatusOr<int> Unbox(int n) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> box, Boxed(n));  // move-only value
  return *box;
}

TEST(StatusMacrosTest, AssignOrReturnPassesValuesAndErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(3).status().message(), "odd");
  absl::Status second = Quarter(6).status();
  EXPECT_EQ(second.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(second.message(), "second half: odd");
  EXPECT_EQ(*Unbox(5), 5);
  EXPECT_EQ(Unbox(-1).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(StatusMacrosTest, ReturnIfErrorAnnotatesKeepingTheCode) {
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).message(), "odd");
  EXPECT_EQ(CheckEven(6).message(), "n/2: odd");
  EXPECT_EQ(CheckEven(6).code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatusMacrosTest, AnnotateLeavesOkAlone) {
  EXPECT_TRUE(Annotate(absl::OkStatus(), "context").ok());
}

}  // namespace
}  // namespace serval
