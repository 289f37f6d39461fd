#include "tools/tune/search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace serval::tune {
namespace {

// A smooth landscape with one peak: throughput rises with batch size up to
// 8, with load up to 16, and best with 2 instances x 1 thread.
TrialFigures Synthetic(const Candidate& c) {
  TrialFigures f;
  f.successes = 1000;
  double t = 100;
  t *= 1 + 0.5 * (c.instances == 2 && c.threads == 1);
  t *= 1 - 0.05 * std::fabs(std::log2(std::max(1, c.max_batch_size)) - 3);
  t *= 1 - 0.08 * std::fabs(std::log2(c.load) - 4);
  t *= 1 - 0.02 * (c.delay_us / 1000.0);
  f.throughput = t;
  f.p99_ms = c.load * 2;
  return f;
}

SearchSpace Space() {
  ModelFacts f;
  f.name = "m";
  f.max_batch_size = 8;
  f.has_threads = true;
  f.dynamic_batching = true;
  SpaceOptions o;
  o.cores = 2;
  auto s = SearchSpace::Build({f}, o);
  EXPECT_TRUE(s.ok());
  return *s;
}

struct Counting {
  const SearchSpace* space;
  Objective objective;
  int calls = 0;
  int limit = 1 << 30;
  std::optional<TrialFigures> reference;
  std::optional<Assessment> operator()(const Point& p) {
    if (calls >= limit) return std::nullopt;
    ++calls;
    TrialFigures f = Synthetic(space->At(p));
    if (!reference) reference = f;
    return Assess(f, *reference, objective);
  }
};

TEST(SearchTest, QuickFindsTheGridsBestWithFarFewerTrials) {
  SearchSpace space = Space();
  Counting quick_eval{&space, Objective{}};
  Search quick(&space, [&](const Point& p) { return quick_eval(p); }, {});
  auto q = quick.Quick();
  ASSERT_TRUE(q.has_value());
  Counting brute_eval{&space, Objective{}};
  Search brute(&space, [&](const Point& p) { return brute_eval(p); }, {});
  auto b = brute.Brute();
  ASSERT_TRUE(b.has_value());
  const double qt = Synthetic(space.At(*q)).throughput;
  const double bt = Synthetic(space.At(*b)).throughput;
  EXPECT_GE(qt, 0.95 * bt);
  EXPECT_EQ(brute_eval.calls, static_cast<int>(space.AllPoints().size()));
  EXPECT_LT(quick_eval.calls, brute_eval.calls / 4);
  EXPECT_EQ(space.At(*q).instances, 2);
}

TEST(SearchTest, TheBaselineIsTheDefaultConfigurationAtItsBestLoad) {
  SearchSpace space = Space();
  Counting eval{&space, Objective{}};
  Search s(&space, [&](const Point& p) { return eval(p); }, {});
  s.Quick();
  ASSERT_TRUE(s.baseline().has_value());
  Candidate c = space.At(*s.baseline());
  EXPECT_EQ(c.instances, 1);
  EXPECT_EQ(c.max_batch_size, 8);
  EXPECT_EQ(c.load, 16);
}

TEST(SearchTest, ConstraintsSteerTheSearch) {
  SearchSpace space = Space();
  Objective o;
  o.max_p99_ms = 10;  // load <= 5: concurrency 4 at most
  Counting eval{&space, o};
  Search s(&space, [&](const Point& p) { return eval(p); }, {});
  auto best = s.Quick();
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(space.At(*best).load, 4);
}

TEST(SearchTest, AnEvaluatorThatStopsEndsTheSearchWithTheBestSoFar) {
  SearchSpace space = Space();
  Counting eval{&space, Objective{}};
  eval.limit = 3;
  Search s(&space, [&](const Point& p) { return eval(p); }, {});
  auto best = s.Quick();
  EXPECT_TRUE(best.has_value());
  EXPECT_EQ(eval.calls, 3);
  EXPECT_EQ(s.evaluated(), 3);
}

TEST(SearchTest, NoPointIsMeasuredTwice) {
  SearchSpace space = Space();
  std::set<std::string> seen;
  int repeats = 0;
  Counting eval{&space, Objective{}};
  Search s(&space,
           [&](const Point& p) {
             if (!seen.insert(space.At(p).Key()).second) ++repeats;
             return eval(p);
           },
           {});
  s.Quick();
  EXPECT_EQ(repeats, 0);
}

}  // namespace
}  // namespace serval::tune
