#include "tools/tune/trial_store.h"

#include <gtest/gtest.h>

namespace serval::tune {
namespace {

Trial Sample() {
  Trial t;
  t.candidate.model = "m\"x";
  t.candidate.instances = 2;
  t.candidate.threads = 1;
  t.candidate.max_batch_size = 8;
  t.candidate.delay_us = 500;
  t.candidate.preferred = "4;8";
  t.candidate.load = 16;
  t.figures.throughput = 123.5;
  t.figures.p99_ms = 7.25;
  t.figures.successes = 999;
  t.figures.errors = 1;
  t.figures.stable = true;
  t.figures.rss_mb = 321;
  t.assessment.feasible = true;
  t.assessment.score = 1.2;
  return t;
}

TEST(TrialStoreTest, JsonRoundTripsEveryField) {
  RunInfo info;
  info.measurement = "http-binary, window 2000 ms";
  Trial failed;
  failed.candidate.model = "m";
  failed.figures.error = "load 'm': HTTP 400: bad";
  auto back = TrialsFromJson(TrialsToJson(info, {Sample(), failed}));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->measurement, info.measurement);
  ASSERT_EQ(back->trials.size(), 2u);
  const Trial& t = back->trials[0];
  EXPECT_EQ(t.candidate.Key(), Sample().candidate.Key());
  EXPECT_DOUBLE_EQ(t.figures.throughput, 123.5);
  EXPECT_DOUBLE_EQ(t.figures.p99_ms, 7.25);
  EXPECT_EQ(t.figures.successes, 999);
  EXPECT_TRUE(t.figures.stable);
  EXPECT_TRUE(t.resumed);
  EXPECT_EQ(back->trials[1].figures.error, failed.figures.error);
}

TEST(TrialStoreTest, AnEditedOrForeignFileIsRefused) {
  EXPECT_FALSE(TrialsFromJson("{").ok());
  EXPECT_FALSE(TrialsFromJson("{\"trials\": []}").ok());
  RunInfo info;
  std::string text = TrialsToJson(info, {Sample()});
  const size_t at = text.find("\"instances\": 2");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 14, "\"instances\": 3");
  auto back = TrialsFromJson(text);
  EXPECT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("does not match"), std::string::npos);
}

TEST(TrialStoreTest, CsvHasAHeaderAndARowPerTrial) {
  const std::string csv = TrialsToCsv({Sample(), Sample()});
  EXPECT_EQ(csv.rfind("model,instances,threads,", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  EXPECT_NE(csv.find("\"m\"\"x\",2,1,8,500,\"4;8\",16,1,"), std::string::npos);
}

}  // namespace
}  // namespace serval::tune
