#include "server/trace.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class TraceTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat(
               "serval_trace_test_", getpid(), "_",
               testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  TraceSettings On(uint32_t rate = 1, int64_t count = -1,
                   uint32_t log_frequency = 0) {
    TraceSettings s;
    s.level = {"TIMESTAMPS"};
    s.rate = rate;
    s.count = count;
    s.log_frequency = log_frequency;
    s.file = (dir_ / "trace.json").string();
    return s;
  }
  void Finish(TraceManager& t, uint64_t id) {
    TraceTimestamps ts;
    ts.request_start = 10;
    ts.queue_start = 20;
    ts.compute_start = 30;
    ts.compute_input_end = 40;
    ts.compute_output_start = 50;
    ts.compute_end = 60;
    ts.request_end = 70;
    t.Finish(id, "m", 1, "req", ts, nullptr);
  }

  std::filesystem::path dir_;
};

TEST_F(TraceTest, OffByDefaultAndInactive) {
  TraceManager t(TraceSettings{});
  EXPECT_FALSE(t.active());
  EXPECT_EQ(t.Sample("m"), 0u);
  EXPECT_THAT(t.Get("").level, ElementsAre("OFF"));
}

TEST_F(TraceTest, RateSamplesEveryNthRequest) {
  TraceManager t(On(/*rate=*/3));
  EXPECT_TRUE(t.active());
  EXPECT_EQ(t.Sample("m"), 0u);
  EXPECT_EQ(t.Sample("m"), 0u);
  EXPECT_EQ(t.Sample("m"), 1u);
  EXPECT_EQ(t.Sample("m"), 0u);
}

TEST_F(TraceTest, CountStopsTracingAndIsReportedAsRemaining) {
  TraceManager t(On(1, /*count=*/2));
  EXPECT_GT(t.Sample("m"), 0u);
  EXPECT_EQ(t.Get("").count, 1);
  EXPECT_GT(t.Sample("m"), 0u);
  EXPECT_EQ(t.Get("").count, 0);
  EXPECT_FALSE(t.active());
  EXPECT_EQ(t.Sample("m"), 0u);
}

TEST_F(TraceTest, TheFileIsACompleteJsonArrayAfterEachTrace) {
  TraceManager t(On());
  Finish(t, t.Sample("m"));
  const std::string one = Read((dir_ / "trace.json").string());
  EXPECT_EQ(one.front(), '[');
  EXPECT_EQ(one.substr(one.size() - 2), "]\n");
  EXPECT_THAT(one, HasSubstr(R"({"id":1,"model_name":"m","model_version":1,)"
                             R"("request_id":"req"})"));
  EXPECT_THAT(one, HasSubstr(R"({"id":1,"timestamps":[{"name":"REQUEST_START",)"
                             R"("ns":10}]})"));
  EXPECT_THAT(one, HasSubstr(R"("name":"COMPUTE_OUTPUT_START","ns":50)"));
  Finish(t, t.Sample("m"));
  const std::string two = Read((dir_ / "trace.json").string());
  EXPECT_EQ(two.substr(two.size() - 2), "]\n");
  EXPECT_THAT(two, HasSubstr(R"("ns":70}]},{"id":2,"model_name")"));
  // Settings changes append to the same file.
  ASSERT_TRUE(t.Update("", {{"trace_rate", false, {"1"}}}).ok());
  Finish(t, t.Sample("m"));
  EXPECT_THAT(Read((dir_ / "trace.json").string()),
              HasSubstr(R"({"id":1,"model_name")"));
  EXPECT_THAT(Read((dir_ / "trace.json").string()),
              HasSubstr(R"({"id":3,"model_name")"));
}

TEST_F(TraceTest, LogFrequencyWritesNumberedFiles) {
  {
    TraceManager t(On(1, -1, /*log_frequency=*/2));
    for (int i = 0; i < 3; ++i) Finish(t, t.Sample("m"));
    EXPECT_TRUE(std::filesystem::exists(dir_ / "trace.json.0"));
    EXPECT_FALSE(std::filesystem::exists(dir_ / "trace.json.1"));
  }
  // The rest is written when the manager goes.
  EXPECT_THAT(Read((dir_ / "trace.json.1").string()),
              HasSubstr(R"({"id":3,"model_name")"));
}

TEST_F(TraceTest, TensorsLevelRecordsInputsAndOutputs) {
  TraceSettings s = On();
  s.level = {"TIMESTAMPS", "TENSORS"};
  TraceManager t(s);
  const uint64_t id = t.Sample("m");
  ASSERT_TRUE(t.WantsTensors("m"));
  const int32_t values[3] = {1, -2, 3};
  TensorView in{"IN",
                DataType::kInt32,
                {1, 3},
                reinterpret_cast<const char*>(values),
                sizeof(values)};
  t.RecordInputs(id, {in});
  std::vector<OutputTensor> outputs(1);
  outputs[0].name = "OUT";
  outputs[0].datatype = DataType::kFp32;
  outputs[0].shape = {1};
  outputs[0].data.Resize(4);
  const float half = 0.5f;
  std::memcpy(outputs[0].data.data(), &half, 4);
  t.Finish(id, "m", 1, "", TraceTimestamps{1, 2, 3, 4, 5, 6, 7}, &outputs);
  const std::string text = Read((dir_ / "trace.json").string());
  EXPECT_THAT(text, HasSubstr(R"({"id":1,"activity":"TENSOR_QUEUE_INPUT",)"
                              R"("tensor":{"name":"IN","data":"1,-2,3",)"
                              R"("shape":"1,3","dtype":"INT32"}})"));
  EXPECT_THAT(text, HasSubstr(R"("activity":"TENSOR_BACKEND_OUTPUT","tensor":)"
                              R"({"name":"OUT","data":"0.5")"));
}

TEST_F(TraceTest, ModelSettingsInheritTheGlobalOnesAndCountApart) {
  TraceManager t(On());
  auto m = t.Update("m", {{"trace_rate", false, {"2"}}});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rate, 2u);
  EXPECT_EQ(m->file, (dir_ / "trace.json").string());
  EXPECT_EQ(t.Get("other").rate, 1u);
  EXPECT_EQ(t.Sample("m"), 0u);
  EXPECT_GT(t.Sample("other"), 0u);
  EXPECT_GT(t.Sample("m"), 0u);
  // Clearing falls back to the global value.
  auto cleared = t.Update("m", {{"trace_rate", true, {}}});
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->rate, 1u);
}

TEST_F(TraceTest, AGlobalChangeReachesModelsAlreadySampled) {
  TraceManager t(On());
  ASSERT_TRUE(t.Update("m", {{"trace_rate", false, {"1"}}}).ok());
  EXPECT_GT(t.Sample("m"), 0u);
  EXPECT_FALSE(t.WantsTensors("m"));
  // The model sets only its rate: level comes from the global scope.
  ASSERT_TRUE(t.Update("", {{"trace_level", false, {"TENSORS"}}}).ok());
  EXPECT_TRUE(t.WantsTensors("m"));
  ASSERT_TRUE(t.Update("", {{"trace_level", false, {"OFF"}}}).ok());
  EXPECT_EQ(t.Sample("m"), 0u);
  EXPECT_FALSE(t.active());
}

TEST_F(TraceTest, BadUpdatesChangeNothing) {
  TraceManager t(On(5));
  auto expect_error = [&](TraceSettingUpdate u, absl::StatusCode code,
                          const std::string& text) {
    auto r = t.Update("", {std::move(u)});
    EXPECT_EQ(r.status().code(), code) << text;
    EXPECT_THAT(r.status().message(), HasSubstr(text));
  };
  const auto invalid = absl::StatusCode::kInvalidArgument;
  expect_error({"trace_rate", false, {"fast"}}, invalid,
               "Unable to parse 'trace_rate', got: fast");
  expect_error({"trace_count", false, {"-2"}}, invalid,
               "Unable to parse 'trace_count', value is out of range [ -1, "
               "2147483647 ], got: -2");
  expect_error({"trace_rate", false, {"1", "2"}}, invalid,
               "expect only 1 value for 'trace_rate'");
  expect_error({"trace_level", false, {"OFF", "TIMESTAMPS"}}, invalid,
               "Expect only one trace level 'OFF' is specified");
  expect_error({"trace_level", false, {"LOUD"}}, invalid,
               "unknown trace_level 'LOUD'");
  expect_error({"trace_file", false, {"/etc/x"}},
               absl::StatusCode::kUnimplemented,
               "trace file location can not be updated through network "
               "protocol");
  expect_error({"trace_rate", false, {"0"}}, invalid,
               "sample rate must be non-zero");
  expect_error({"colour", false, {"red"}}, invalid,
               "unknown trace setting 'colour'");
  EXPECT_EQ(t.Get("").rate, 5u);
}

TEST(ParseTraceConfigTest, TritonsFlags) {
  auto s = ParseTraceConfig({"level=TIMESTAMPS", "triton,level=TENSORS",
                             "rate=1", "count=5", "log_frequency=2",
                             "file=/tmp/t.json", "mode=triton"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->level, ElementsAre("TIMESTAMPS", "TENSORS"));
  EXPECT_EQ(s->rate, 1u);
  EXPECT_EQ(s->count, 5);
  EXPECT_EQ(s->log_frequency, 2u);
  EXPECT_EQ(s->file, "/tmp/t.json");
  auto none = ParseTraceConfig({});
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(none->level, ElementsAre("OFF"));
}

TEST(ParseTraceConfigTest, BadFlagsAreNamed) {
  EXPECT_THAT(ParseTraceConfig({"rate"}).status().message(),
              HasSubstr("--trace-config 'rate': expected <setting>=<value>"));
  EXPECT_THAT(ParseTraceConfig({"speed=3"}).status().message(),
              HasSubstr("--trace-config 'speed=3': unknown setting"));
  EXPECT_THAT(ParseTraceConfig({"rate=x"}).status().message(),
              HasSubstr("--trace-config: Unable to parse 'trace_rate'"));
  EXPECT_THAT(ParseTraceConfig({"level=TIMESTAMPS"}).status().message(),
              HasSubstr("no file=<path> is given"));
}

}  // namespace
}  // namespace serval
