#include "common/status_map.h"

#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(StatusMapTest, HttpStatusFollowsDesignTable) {
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kCancelled), 499);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kPermissionDenied), 403);
}

TEST(StatusMapTest, GrpcCodesKeepAbslNumbering) {
  EXPECT_EQ(GrpcCodeFor(absl::StatusCode::kUnavailable), 14);
  EXPECT_EQ(GrpcCodeFor(absl::StatusCode::kInvalidArgument), 3);
}

TEST(StatusMapTest, CodeFromIntRejectsOutOfRange) {
  EXPECT_EQ(CodeFromInt(3), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeFromInt(-1), absl::StatusCode::kUnknown);
  EXPECT_EQ(CodeFromInt(999), absl::StatusCode::kUnknown);
  EXPECT_EQ(CodeName(absl::StatusCode::kUnavailable), "UNAVAILABLE");
}

}  // namespace
}  // namespace serval
