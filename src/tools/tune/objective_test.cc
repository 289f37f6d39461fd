#include "tools/tune/objective.h"

#include <gtest/gtest.h>

namespace serval::tune {
namespace {

TrialFigures Figures(double throughput, double p99_ms, double rss_mb = 100) {
  TrialFigures f;
  f.throughput = throughput;
  f.p99_ms = p99_ms;
  f.rss_mb = rss_mb;
  f.cpu_cores = 1;
  f.successes = 1000;
  return f;
}

TEST(ObjectiveTest, ParsesNamesAndWeights) {
  auto o = ParseObjective("throughput");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->throughput, 1);
  EXPECT_EQ(o->p99, 0);
  o = ParseObjective("throughput=1,p99=0.5,memory=2");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->p99, 0.5);
  EXPECT_EQ(o->memory, 2);
  EXPECT_FALSE(ParseObjective("speed").ok());
  EXPECT_FALSE(ParseObjective("p99=-1").ok());
  EXPECT_FALSE(ParseObjective("p99=x").ok());
  EXPECT_FALSE(ParseObjective("").ok());
}

TEST(ObjectiveTest, ScoresAreRelativeToTheReference) {
  Objective o;
  const TrialFigures ref = Figures(100, 10);
  EXPECT_DOUBLE_EQ(Assess(ref, ref, o).score, 1);
  EXPECT_DOUBLE_EQ(Assess(Figures(150, 10), ref, o).score, 1.5);
  o.throughput = 0;
  o.p99 = 1;
  EXPECT_DOUBLE_EQ(Assess(Figures(100, 5), ref, o).score, 2);
  o.throughput = 1;
  EXPECT_DOUBLE_EQ(Assess(Figures(200, 20), ref, o).score, 2.5);
}

TEST(ObjectiveTest, ConstraintsDecideFeasibility) {
  Objective o;
  o.max_p99_ms = 20;
  o.max_rss_mb = 150;
  o.min_throughput = 50;
  const TrialFigures ref = Figures(100, 10);
  EXPECT_TRUE(Assess(Figures(100, 19), ref, o).feasible);
  Assessment slow = Assess(Figures(100, 30), ref, o);
  EXPECT_FALSE(slow.feasible);
  EXPECT_NEAR(slow.violation, 0.5, 1e-9);
  EXPECT_EQ(slow.why, "p99 over budget");
  EXPECT_FALSE(Assess(Figures(40, 10), ref, o).feasible);
  EXPECT_FALSE(Assess(Figures(100, 10, 200), ref, o).feasible);
  TrialFigures refused = Figures(100, 10);
  refused.errors = 100;  // 9% refused
  Assessment a = Assess(refused, ref, o);
  EXPECT_FALSE(a.feasible);
  EXPECT_NE(a.why.find("errors"), std::string::npos);
  TrialFigures failed;
  failed.error = "load 'm': HTTP 400";
  EXPECT_FALSE(Assess(failed, ref, o).feasible);
  EXPECT_EQ(Assess(failed, ref, o).why, "load 'm': HTTP 400");
}

TEST(ObjectiveTest, FeasibleBeatsInfeasibleAndCloserBeatsFarther) {
  Assessment feasible{true, 0, 0.5, ""};
  Assessment near{false, 0.1, 3, ""};
  Assessment far{false, 2, 9, ""};
  EXPECT_TRUE(Better(feasible, near));
  EXPECT_TRUE(Better(near, far));
  EXPECT_FALSE(Better(far, near));
  Assessment a{true, 0, 1.04, ""}, b{true, 0, 1.0, ""};
  EXPECT_TRUE(Better(a, b));
  EXPECT_FALSE(BetterBy(a, b, 0.05));
  EXPECT_TRUE(BetterBy(Assessment{true, 0, 1.06, ""}, b, 0.05));
}

}  // namespace
}  // namespace serval::tune
