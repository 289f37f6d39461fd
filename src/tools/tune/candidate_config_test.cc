#include "tools/tune/candidate_config.h"

#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"

namespace serval::tune {
namespace {

inference::ModelConfig Parse(const std::string& text) {
  inference::ModelConfig c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c));
  return c;
}

const char kOnnx[] = R"(
name: "m" platform: "onnxruntime_onnx" backend: "onnxruntime"
max_batch_size: 16
instance_group [ { count: 2 kind: KIND_CPU } ]
parameters { key: "INTRA_OP_THREAD_COUNT" value { string_value: "1" } }
parameters { key: "other" value { string_value: "kept" } }
dynamic_batching { max_queue_delay_microseconds: 100 preferred_batch_size: [ 16 ] }
)";

TEST(CandidateConfigTest, FactsComeFromTheConfiguration) {
  ModelFacts f = FactsFromConfig(Parse(kOnnx));
  EXPECT_EQ(f.name, "m");
  EXPECT_EQ(f.max_batch_size, 16);
  EXPECT_EQ(f.instances, 2);
  EXPECT_EQ(f.threads, 1);
  EXPECT_TRUE(f.has_threads);
  EXPECT_EQ(f.delay_us, 100);
  EXPECT_EQ(f.preferred, "max");
  EXPECT_FALSE(
      FactsFromConfig(Parse("name: \"p\" backend: \"python\"")).has_threads);
}

TEST(CandidateConfigTest, TheCandidateReplacesTheTunedFieldsOnly) {
  Candidate k;
  k.model = "m";
  k.instances = 1;
  k.threads = 2;
  k.max_batch_size = 8;
  k.delay_us = 5000;
  k.preferred = "2;4;32";
  inference::ModelConfig c = ApplyCandidate(Parse(kOnnx), k);
  ASSERT_EQ(c.instance_group_size(), 1);
  EXPECT_EQ(c.instance_group(0).count(), 1);
  EXPECT_EQ(c.parameters().at("intra_op_thread_count").string_value(), "2");
  EXPECT_EQ(c.parameters().count("INTRA_OP_THREAD_COUNT"), 0u);
  EXPECT_EQ(c.parameters().at("other").string_value(), "kept");
  EXPECT_EQ(c.max_batch_size(), 8);
  EXPECT_EQ(c.dynamic_batching().max_queue_delay_microseconds(), 5000u);
  // 32 is over the batch limit: it would make the config invalid.
  ASSERT_EQ(c.dynamic_batching().preferred_batch_size_size(), 2);
  EXPECT_EQ(c.dynamic_batching().preferred_batch_size(1), 4);
  k.preferred = "max";
  k.threads = 0;
  c = ApplyCandidate(Parse(kOnnx), k);
  EXPECT_EQ(c.dynamic_batching().preferred_batch_size(0), 8);
  EXPECT_EQ(c.parameters().count("intra_op_thread_count"), 0u);
}

TEST(CandidateConfigTest, AModelThatDoesNotBatchKeepsItsBatching) {
  Candidate k;
  k.instances = 3;
  k.max_batch_size = 8;
  inference::ModelConfig c =
      ApplyCandidate(Parse("name: \"p\" backend: \"python\""), k);
  EXPECT_EQ(c.max_batch_size(), 0);
  EXPECT_FALSE(c.has_dynamic_batching());
  EXPECT_EQ(c.instance_group(0).count(), 3);
}

TEST(CandidateConfigTest, PbtxtParsesBackAndSaysWhereItCameFrom) {
  const std::string text =
      ToPbtxt(Parse(kOnnx), "Written by serval tune\nline 2");
  EXPECT_EQ(text.rfind("# Written by serval tune\n# line 2\n", 0), 0u);
  inference::ModelConfig back = Parse(text);
  EXPECT_EQ(back.max_batch_size(), 16);
}

}  // namespace
}  // namespace serval::tune
