#include "scheduler/execution_profile.h"

#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(ExecutionProfileTest, KnowsNothingUntilABatchRan) {
  ExecutionProfile p(8);
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.EstimateNs(4), 0u);
  EXPECT_EQ(p.LargestWithin(1000, 8), 8);  // nothing says no
}

TEST(ExecutionProfileTest, EstimatesUnmeasuredSizesFromTheirNeighbours) {
  ExecutionProfile p(16);
  p.Record(2, 200);
  p.Record(6, 600);
  EXPECT_EQ(p.EstimateNs(2), 200u);
  EXPECT_EQ(p.EstimateNs(4), 400u);    // between: linear
  EXPECT_EQ(p.EstimateNs(1), 200u);    // below the smallest: as the smallest
  EXPECT_EQ(p.EstimateNs(12), 1200u);  // above the largest: per item
  EXPECT_EQ(p.EstimateNs(32), 3200u);  // beyond the kept sizes too
}

TEST(ExecutionProfileTest, FollowsAChangeWithAMovingAverage) {
  ExecutionProfile p(1);
  p.Record(1, 800);
  p.Record(1, 1600);
  EXPECT_EQ(p.EstimateNs(1), 900u);  // (800 * 7 + 1600) / 8
  for (int i = 0; i < 40; ++i) p.Record(1, 1600);
  EXPECT_GT(p.EstimateNs(1), 1590u);
}

TEST(ExecutionProfileTest, TheUpperBoundAddsTwiceTheDeviation) {
  ExecutionProfile p(1);
  p.Record(1, 1000);
  EXPECT_EQ(p.UpperNs(1), 1000u);  // one sample: no spread known
  p.Record(1, 1800);               // mean 1100, deviation 200
  EXPECT_EQ(p.EstimateNs(1), 1100u);
  EXPECT_EQ(p.UpperNs(1), 1500u);
}

TEST(ExecutionProfileTest, LargestWithinPicksTheBiggestBatchThatFits) {
  ExecutionProfile p(32);
  p.Record(1, 10);
  p.Record(32, 320);
  EXPECT_EQ(p.LargestWithin(160, 32), 16);
  EXPECT_EQ(p.LargestWithin(1000, 32), 32);
  EXPECT_EQ(p.LargestWithin(1000, 8), 8);  // never above the limit
  EXPECT_EQ(p.LargestWithin(1, 32), 1);    // at least one
}

}  // namespace
}  // namespace serval
