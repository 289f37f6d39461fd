#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "tools/perf/arrival_schedule.h"
#include "tools/perf/goodput.h"
#include "tools/perf/latency_summary.h"
#include "tools/perf/stability.h"

namespace serval::perf {
namespace {

TEST(PercentileTest, NearestRankOnOneToHundred) {
  std::vector<int64_t> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);  // unsorted on purpose
  LatencySummary s = Summarize(v);
  EXPECT_EQ(s.count, 100);
  EXPECT_DOUBLE_EQ(s.avg_ns, 50.5);
  EXPECT_EQ(s.p50_ns, 50);
  EXPECT_EQ(s.p90_ns, 90);
  EXPECT_EQ(s.p95_ns, 95);
  EXPECT_EQ(s.p99_ns, 99);
  EXPECT_EQ(s.max_ns, 100);
}

TEST(PercentileTest, SmallSamplesNeverInterpolate) {
  std::vector<int64_t> v = {10, 20, 30, 40, 1000};
  EXPECT_EQ(Percentile(v, 50), 30);
  EXPECT_EQ(Percentile(v, 90), 1000);  // rank ceil(4.5) = 5
  EXPECT_EQ(Percentile(v, 80), 40);    // rank 4 exactly
  EXPECT_EQ(Percentile(v, 0), 10);
  EXPECT_EQ(Percentile(v, 100), 1000);
  EXPECT_EQ(Percentile({}, 99), 0);
}

TEST(PercentileTest, TailIsTheOutlier) {
  std::vector<int64_t> v(1000, 5);
  v[123] = 7;
  for (int i = 0; i < 10; ++i) v[i * 7] = 900;  // 1% slow requests
  LatencySummary s = Summarize(v);
  EXPECT_EQ(s.p50_ns, 5);
  EXPECT_EQ(s.p99_ns, 7);  // rank 990: the 989 fives, then the seven
  EXPECT_EQ(s.max_ns, 900);
  std::vector<int64_t> w(1000, 5);
  for (int i = 0; i < 11; ++i) w[i] = 900;  // 1.1% slow: p99 sees them
  EXPECT_EQ(Summarize(w).p99_ns, 900);
}

TEST(GoodputTest, CountsSuccessesWithinTheBudgetAndRefusalsApart) {
  std::vector<Sample> samples = {
      {1'000'000, 0, 0, 0, ""},        // 1 ms: within 5 ms
      {4'000'000, 0, 0, 0, ""},        // 4 ms: within
      {9'000'000, 0, 0, 0, ""},        // 9 ms: late
      {200'000, 0, 0, 0, "HTTP 503"},  // refused fast
      {300'000, 0, 0, 0, "gRPC UNAVAILABLE"},
      {100'000, 0, 0, 0, "HTTP 429"},
      {2'000'000, 0, 0, 0, "HTTP 500"},  // a failure, not a refusal
      {2'000'000, 0, 0, 0, "read: end of stream"}};
  std::vector<const Sample*> all;
  for (const Sample& s : samples) all.push_back(&s);
  Outcomes o = CountOutcomes(all, 2.0, 5'000'000);
  EXPECT_EQ(o.within_budget, 2);
  EXPECT_DOUBLE_EQ(o.goodput, 1.0);
  EXPECT_EQ(o.refusals, 3);
  EXPECT_EQ(o.refusal_latency.p99_ns, 300'000);
  EXPECT_EQ(o.other_errors, 2);
  // No budget: every success counts.
  EXPECT_EQ(CountOutcomes(all, 1.0, 0).within_budget, 3);
  EXPECT_TRUE(IsRefusal("gRPC RESOURCE_EXHAUSTED"));
  EXPECT_FALSE(IsRefusal("gRPC DEADLINE_EXCEEDED"));
}

TEST(StabilityTest, NeedsThreeWindows) {
  std::vector<WindowFigures> h = {{100, 1000}, {100, 1000}};
  EXPECT_FALSE(IsStable(h, 10));
  h.push_back({100, 1000});
  EXPECT_TRUE(IsStable(h, 10));
}

TEST(StabilityTest, ThroughputOutsideBoundIsUnstable) {
  // spread (110 - 90) / 100 = 20%
  std::vector<WindowFigures> h = {{90, 1000}, {100, 1000}, {110, 1000}};
  EXPECT_FALSE(IsStable(h, 10));
  EXPECT_TRUE(IsStable(h, 20.5));
  EXPECT_NEAR(ThroughputSpreadPercent(h), 20.0, 1e-9);
}

TEST(StabilityTest, P99OutsideBoundIsUnstable) {
  std::vector<WindowFigures> h = {{100, 1000}, {100, 1000}, {100, 1500}};
  EXPECT_FALSE(IsStable(h, 10));
}

TEST(StabilityTest, OnlyTheLastWindowsCount) {
  std::vector<WindowFigures> h = {
      {10, 99999}, {100, 1000}, {101, 1010}, {99, 1000}};
  EXPECT_TRUE(IsStable(h, 5));
}

TEST(StabilityTest, EmptyWindowsAreNeverStable) {
  std::vector<WindowFigures> h = {{0, 0}, {0, 0}, {0, 0}};
  EXPECT_FALSE(IsStable(h, 50));
}

TEST(ArrivalScheduleTest, ConstantIsEvenlySpaced) {
  ArrivalSchedule s(Arrivals::kConstant, 1000);  // 1 ms apart
  EXPECT_EQ(s.Next(), 0);
  EXPECT_EQ(s.Next(), 1000000);
  EXPECT_EQ(s.Next(), 2000000);
  for (int i = 3; i < 10000; ++i) s.Next();
  EXPECT_EQ(s.Next(), 10000LL * 1000000);  // no drift
}

TEST(ArrivalScheduleTest, PoissonHasExponentialGaps) {
  const double rate = 2000;
  ArrivalSchedule s(Arrivals::kPoisson, rate, 42);
  const int n = 200000;
  std::vector<double> gaps;
  int64_t prev = s.Next();
  for (int i = 0; i < n; ++i) {
    int64_t t = s.Next();
    ASSERT_GE(t, prev);
    gaps.push_back(static_cast<double>(t - prev));
    prev = t;
  }
  double sum = 0, sq = 0;
  int below_mean = 0;
  const double mean_expected = 1e9 / rate;
  for (double g : gaps) {
    sum += g;
    sq += g * g;
    if (g < mean_expected) ++below_mean;
  }
  const double mean = sum / n;
  const double sd = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(mean, mean_expected, mean_expected * 0.01);
  // Exponential: standard deviation equals the mean, and
  // P(gap < mean) = 1 - 1/e = 0.632.
  EXPECT_NEAR(sd / mean, 1.0, 0.02);
  EXPECT_NEAR(static_cast<double>(below_mean) / n, 1 - std::exp(-1.0), 0.01);
}

TEST(ArrivalScheduleTest, PoissonIsRepeatableForASeed) {
  ArrivalSchedule a(Arrivals::kPoisson, 100, 7), b(Arrivals::kPoisson, 100, 7);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.Next(), b.Next());
}

}  // namespace
}  // namespace serval::perf
