#include "tools/perf/model_inputs.h"

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/perf/perf_command.h"
#include "tools/perf/server_stats.h"

namespace serval::perf {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kMetadata[] =
    R"({"name":"m","versions":["1"],"platform":"x","inputs":[)"
    R"({"name":"A","datatype":"FP32","shape":[-1,4]},)"
    R"({"name":"B","datatype":"INT64","shape":[-1,-1]}],"outputs":[]})";

TEST(ModelInfoTest, ReadsMetadataAndConfig) {
  auto info = ParseModelInfoJson(kMetadata, R"({"max_batch_size":8})");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->max_batch_size, 8);
  ASSERT_EQ(info->inputs.size(), 2u);
  EXPECT_EQ(info->inputs[1].datatype, "INT64");
  EXPECT_THAT(info->inputs[0].shape, ElementsAre(-1, 4));
  auto no_config = ParseModelInfoJson(kMetadata, "");
  ASSERT_TRUE(no_config.ok());
  EXPECT_EQ(no_config->max_batch_size, 0);
}

TEST(MakeInputsTest, BatchDimAndVariableDims) {
  ModelInfo info = *ParseModelInfoJson(kMetadata, R"({"max_batch_size":8})");
  InputOptions o;
  o.batch_size = 3;
  auto missing = MakeInputs(info, o);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("--shape B"));
  o.shapes["B"] = {5};
  o.int_min = 10;
  o.int_max = 12;
  auto inputs = MakeInputs(info, o);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  EXPECT_THAT((*inputs)[0].shape, ElementsAre(3, 4));
  EXPECT_EQ((*inputs)[0].raw.size(), 3u * 4 * 4);
  EXPECT_THAT((*inputs)[1].shape, ElementsAre(3, 5));
  ASSERT_EQ((*inputs)[1].raw.size(), 15u * 8);
  for (int i = 0; i < 15; ++i) {
    int64_t v;
    std::memcpy(&v, (*inputs)[1].raw.data() + 8 * i, 8);
    EXPECT_TRUE(v == 10 || v == 11) << v;
  }
}

TEST(MakeInputsTest, ZerosAndNonBatchingModel) {
  ModelInfo info;
  info.inputs.push_back({"X", "FP32", {2}});
  InputOptions o;
  o.kind = InputKind::kZeros;
  auto inputs = MakeInputs(info, o);
  ASSERT_TRUE(inputs.ok());
  EXPECT_EQ(
      JsonInferBody(*inputs),
      R"({"inputs":[{"name":"X","shape":[2],"datatype":"FP32","data":[0.0,0.0]}]})");
  o.batch_size = 2;
  EXPECT_FALSE(MakeInputs(info, o).ok());
}

TEST(InputsJsonTest, NestedDataRoundTrips) {
  auto inputs = ParseInputsJson(
      R"({"inputs":[{"name":"X","shape":[2,2],"datatype":"INT32","data":[[1,2],[3,4]]},)"
      R"({"name":"S","shape":[1],"datatype":"BYTES","data":["hi"]}]})");
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  EXPECT_EQ(
      JsonInferBody(*inputs),
      R"({"inputs":[{"name":"X","shape":[2,2],"datatype":"INT32","data":[1,2,3,4]},)"
      R"({"name":"S","shape":[1],"datatype":"BYTES","data":["hi"]}]})");
  EXPECT_EQ((*inputs)[1].raw, std::string("\x02\x00\x00\x00hi", 6));
  EXPECT_FALSE(
      ParseInputsJson(
          R"({"inputs":[{"name":"X","shape":[3],"datatype":"INT32","data":[1,2]}]})")
          .ok());
}

TEST(InputsJsonTest, BinaryBodyHasHeaderThenRawBytes) {
  std::vector<InputTensor> inputs = {
      {"X", "FP32", {1}, std::string("\0\0\x80\x3f", 4)}};
  size_t header_length = 0;
  std::string body = BinaryInferBody(inputs, &header_length);
  const std::string header = body.substr(0, header_length);
  EXPECT_THAT(header, HasSubstr(R"("parameters":{"binary_data_size":4})"));
  EXPECT_THAT(header, HasSubstr(R"("binary_data_output":true)"));
  EXPECT_EQ(body.substr(header_length), inputs[0].raw);
}

TEST(ServerStatsTest, BreakdownBetweenSnapshots) {
  auto before = ParseStatsJson(
      R"({"model_stats":[{"name":"m","version":"1","inference_count":10,)"
      R"("execution_count":5,"inference_stats":{"success":{"count":10,"ns":10000},)"
      R"("queue":{"count":10,"ns":2000},"compute_infer":{"count":10,"ns":5000}}}]})");
  auto after = ParseStatsJson(
      R"({"model_stats":[{"name":"m","version":"1","inference_count":30,)"
      R"("execution_count":10,"inference_stats":{"success":{"count":30,"ns":50000},)"
      R"("queue":{"count":30,"ns":42000},"compute_infer":{"count":30,"ns":25000}}}]})");
  ASSERT_TRUE(before.ok() && after.ok());
  ServerBreakdown b = Breakdown(Delta(*before, *after));
  EXPECT_TRUE(b.valid);
  EXPECT_EQ(b.requests, 20u);
  EXPECT_DOUBLE_EQ(b.request_us, 2.0);  // 40000 ns / 20
  EXPECT_DOUBLE_EQ(b.queue_us, 2.0);    // 40000 ns / 20
  EXPECT_DOUBLE_EQ(b.compute_infer_us, 1.0);
  EXPECT_DOUBLE_EQ(b.avg_batch, 4.0);  // 20 inferences in 5 executions
  EXPECT_FALSE(ParseStatsJson("{}").ok());
}

TEST(ParseRangeTest, StartEndStep) {
  EXPECT_THAT(*ParseRange("1:8:2"), ElementsAre(1, 3, 5, 7));
  EXPECT_THAT(*ParseRange("4"), ElementsAre(4));
  EXPECT_THAT(*ParseRange("100:300:100"), ElementsAre(100, 200, 300));
  EXPECT_FALSE(ParseRange("8:1").ok());
  EXPECT_FALSE(ParseRange("a").ok());
  EXPECT_FALSE(ParseRange("0:4").ok());
}

}  // namespace
}  // namespace serval::perf
