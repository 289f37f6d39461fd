#include "repository/version_policy.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

inference::ModelVersionPolicy Policy(const std::string& text) {
  inference::ModelVersionPolicy policy;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &policy))
      << text;
  return policy;
}

TEST(SelectVersionsTest, UnsetPolicyMeansLatestOne) {
  auto selection = SelectVersions(Policy(""), {3, 1, 7, 2});
  ASSERT_TRUE(selection.ok()) << selection.status();
  EXPECT_THAT(selection->versions, ElementsAre(7));
  EXPECT_THAT(selection->missing, IsEmpty());
}

TEST(SelectVersionsTest, LatestNPicksTheHighest) {
  auto selection =
      SelectVersions(Policy("latest { num_versions: 2 }"), {3, 1, 10, 2});
  ASSERT_TRUE(selection.ok());
  EXPECT_THAT(selection->versions, ElementsAre(3, 10));
}

TEST(SelectVersionsTest, LatestMoreThanAvailableTakesAll) {
  auto selection = SelectVersions(Policy("latest { num_versions: 5 }"), {2, 1});
  ASSERT_TRUE(selection.ok());
  EXPECT_THAT(selection->versions, ElementsAre(1, 2));
}

TEST(SelectVersionsTest, LatestZeroIsInvalid) {
  auto selection = SelectVersions(Policy("latest { num_versions: 0 }"), {1});
  EXPECT_EQ(selection.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(selection.status().message()),
              ::testing::HasSubstr("num_versions"));
}

TEST(SelectVersionsTest, AllTakesEveryVersionOnce) {
  auto selection = SelectVersions(Policy("all {}"), {5, 1, 3, 3});
  ASSERT_TRUE(selection.ok());
  EXPECT_THAT(selection->versions, ElementsAre(1, 3, 5));
}

TEST(SelectVersionsTest, SpecificTakesThoseThatExist) {
  auto selection =
      SelectVersions(Policy("specific { versions: [3, 1] }"), {1, 2, 3, 4});
  ASSERT_TRUE(selection.ok());
  EXPECT_THAT(selection->versions, ElementsAre(1, 3));
  EXPECT_THAT(selection->missing, IsEmpty());
}

TEST(SelectVersionsTest, SpecificReportsMissingVersions) {
  auto selection =
      SelectVersions(Policy("specific { versions: [9, 2, 7] }"), {1, 2});
  ASSERT_TRUE(selection.ok());
  EXPECT_THAT(selection->versions, ElementsAre(2));
  EXPECT_THAT(selection->missing, ElementsAre(7, 9));
}

TEST(SelectVersionsTest, NothingAvailable) {
  auto selection = SelectVersions(Policy(""), {});
  ASSERT_TRUE(selection.ok());
  EXPECT_THAT(selection->versions, IsEmpty());
}

}  // namespace
}  // namespace serval
