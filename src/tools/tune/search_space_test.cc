#include "tools/tune/search_space.h"

#include <gtest/gtest.h>

#include <set>

namespace serval::tune {
namespace {

ModelFacts Batching(const std::string& name = "m") {
  ModelFacts f;
  f.name = name;
  f.max_batch_size = 8;
  f.instances = 1;
  f.has_threads = true;
  f.dynamic_batching = true;
  return f;
}

SpaceOptions TwoCores() {
  SpaceOptions o;
  o.cores = 2;
  return o;
}

TEST(SearchSpaceTest, DefaultsFitTheModelAndTheCores) {
  auto s = SearchSpace::Build({Batching()}, TwoCores());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->Size(kInstances), 2);  // 1, 2
  EXPECT_EQ(s->Size(kThreads), 2);    // 1, 2
  EXPECT_EQ(s->Size(kMaxBatch), 5);   // 1, 2, 4, 8, 16
  EXPECT_EQ(s->Size(kDelay), 4);      // 0, 100, 1000, 5000
  EXPECT_EQ(s->Size(kPreferred), 2);  // none, max
  EXPECT_EQ(s->Size(kLoad), 8);
  Point p{};
  p[kInstances] = 1;
  p[kThreads] = 1;  // 2 instances x 2 threads: more than 2 cores
  EXPECT_FALSE(s->Valid(p));
  p[kThreads] = 0;
  EXPECT_TRUE(s->Valid(p));
  EXPECT_EQ(s->At(p).instances, 2);
  EXPECT_EQ(s->At(p).threads, 1);
}

TEST(SearchSpaceTest, PointsThatMeasureTheSameThingAreFolded) {
  auto s = SearchSpace::Build({Batching()}, TwoCores());
  ASSERT_TRUE(s.ok());
  Point p{};
  p[kMaxBatch] = 0;  // batch 1: the delay and preferred sizes do nothing
  p[kDelay] = 3;
  p[kPreferred] = 1;
  Point c = s->Canonical(p);
  EXPECT_EQ(c[kDelay], 0);
  EXPECT_EQ(c[kPreferred], 0);
  std::set<std::string> keys;
  for (const Point& q : s->AllPoints()) {
    EXPECT_EQ(s->Canonical(q), q);
    EXPECT_TRUE(keys.insert(s->At(q).Key()).second) << s->At(q).Key();
  }
  // 3 parallelisms x (1 + 4 batch sizes x 4 delays x 2 preferred) x 8 loads.
  EXPECT_EQ(keys.size(), 3u * (1 + 4 * 4 * 2) * 8);
}

TEST(SearchSpaceTest, UserListsReplaceTheDefaults) {
  SpaceOptions o = TwoCores();
  o.instances = {2, 1, 2};
  o.threads = {1};
  o.max_batch = {4};
  o.delay_us = {0};
  o.preferred = {"none"};
  o.load = {16, 4};
  auto s = SearchSpace::Build({Batching()}, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->AllPoints().size(), 2u * 2);
  EXPECT_EQ(s->At(s->AllPoints()[0]).load, 4);  // sorted
}

TEST(SearchSpaceTest, TheDefaultPointIsTheModelsOwnConfiguration) {
  ModelFacts f = Batching();
  f.instances = 2;
  f.delay_us = 100;
  f.preferred = "max";
  auto s = SearchSpace::Build({f}, TwoCores());
  ASSERT_TRUE(s.ok());
  Candidate c = s->At(s->DefaultPoint(0, 8));
  EXPECT_EQ(c.instances, 2);
  EXPECT_EQ(c.threads, 1);  // unset: cores / instances
  EXPECT_EQ(c.max_batch_size, 8);
  EXPECT_EQ(c.delay_us, 100);
  EXPECT_EQ(c.preferred, "max");
  EXPECT_EQ(c.load, 8);
}

TEST(SearchSpaceTest, ADefaultBeyondTheCoresIsBroughtWithinThem) {
  ModelFacts f = Batching();
  f.instances = 4;
  f.threads = 4;
  auto s = SearchSpace::Build({f}, TwoCores());
  ASSERT_TRUE(s.ok());
  Point p = s->DefaultPoint(0, 1);
  EXPECT_TRUE(s->Valid(p));
  Candidate c = s->At(p);
  EXPECT_LE(c.instances * c.threads, 2);
}

TEST(SearchSpaceTest, AModelThatDoesNotBatchHasNoBatchDimensions) {
  ModelFacts f;
  f.name = "py";
  f.max_batch_size = 0;
  f.has_threads = false;
  auto s = SearchSpace::Build({f}, TwoCores());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Size(kMaxBatch), 1);
  EXPECT_EQ(s->Size(kDelay), 1);
  EXPECT_EQ(s->Size(kThreads), 1);
  EXPECT_EQ(s->At(s->DefaultPoint(0, 1)).ConfigLabel(), "1xauto thr");
}

TEST(SearchSpaceTest, ModelsThatBatchDifferentlyAreRefused) {
  ModelFacts a = Batching("a");
  ModelFacts b = Batching("b");
  b.max_batch_size = 0;
  auto s = SearchSpace::Build({a, b}, TwoCores());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("differ in batching"), std::string::npos);
}

TEST(SearchSpaceTest, NoFittingConfigurationIsAnError) {
  SpaceOptions o = TwoCores();
  o.instances = {4};
  o.threads = {1};
  auto s = SearchSpace::Build({Batching()}, o);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("exceeds 2 cores"), std::string::npos);
}

TEST(SearchSpaceTest, OpenLoopNeedsARate) {
  SpaceOptions o = TwoCores();
  o.open_loop = true;
  EXPECT_FALSE(SearchSpace::Build({Batching()}, o).ok());
  o.load = {50};
  EXPECT_TRUE(SearchSpace::Build({Batching()}, o).ok());
}

}  // namespace
}  // namespace serval::tune
