#include "frontend/http/rest_handler.h"

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/status_map.h"
#include "frontend/http/fake_server_api.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval::http {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

// The connection side of one exchange, as HttpSession plays it: infer
// completions are encoded with InferReply; the reply is kept for the test.
struct TestExchange final : RestExchange {
  void Reply(RestReply r) override { reply = std::move(r); }
  void OnInferComplete(InferenceResponse response) override {
    ++infer_completions;
    Reply(InferReply(std::move(response), encoding));
  }
  std::optional<RestReply> reply;
  int infer_completions = 0;
};

class RestHandlerTest : public ::testing::Test {
 protected:
  RestHandlerTest() : handler_(&api_, &blocking_) {}

  // Runs one request; the blocking executor runs inline.
  RestReply Call(const std::string& method, const std::string& target,
                 std::string body = "", std::string content_type = "",
                 std::optional<size_t> header_length = std::nullopt) {
    body_ = std::move(body);
    RestRequest request;
    request.method = method;
    request.target = target;
    request.content_type = content_type;
    request.inference_header_length = header_length;
    request.body = body_;
    request.cancellation = &cancellation_;
    TestExchange exchange;
    handler_.Handle(request, &exchange);
    EXPECT_TRUE(exchange.reply.has_value()) << target;
    last_infer_completions_ = exchange.infer_completions;
    return exchange.reply ? std::move(*exchange.reply) : RestReply{};
  }

  FakeServerApi api_;
  InlineExecutor blocking_;
  RestHandler handler_;
  std::string body_;
  CancellationFlag cancellation_;
  int last_infer_completions_ = 0;
};

TEST_F(RestHandlerTest, Health) {
  EXPECT_EQ(Call("GET", "/v2/health/live").status, 200);
  EXPECT_EQ(Call("GET", "/v2/health/ready").status, 200);
  api_.ready = false;
  RestReply r = Call("GET", "/v2/health/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "");
}

TEST_F(RestHandlerTest, ServerAndModelMetadata) {
  RestReply r = Call("GET", "/v2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"name":"serval","version":"0.1.0","extensions":)"
                    R"(["binary_tensor_data","statistics"]})");
  r = Call("GET", "/v2/models/m/versions/1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"name":"m","versions":["1"],"platform":"identity",)"
      R"("inputs":[{"name":"a","datatype":"FP32","shape":[-1,2]}],)"
      R"("outputs":[{"name":"a_out","datatype":"FP32","shape":[-1,2]}]})");
  r = Call("GET", "/v2/models/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"unknown model 'nope'"})");
  r = Call("GET", "/v2/models/m/versions/9");
  EXPECT_EQ(r.status, 404);
  r = Call("GET", "/v2/models/m/versions/x");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("non-negative integer"));
}

TEST_F(RestHandlerTest, ModelReadyAndConfig) {
  EXPECT_EQ(Call("GET", "/v2/models/m/ready").status, 200);
  api_.model_ready = false;
  EXPECT_EQ(Call("GET", "/v2/models/m/versions/1/ready").status, 503);
  RestReply r = Call("GET", "/v2/models/m/config");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("name":"m")"));
  EXPECT_THAT(r.body, HasSubstr(R"("max_batch_size":8)"));
}

TEST_F(RestHandlerTest, StatisticsInTritonShape) {
  ModelStatistics s;
  s.name = "m";
  s.version = "1";
  s.last_inference_ms = 42;
  s.inference_count = 5;
  s.execution_count = 2;
  s.inference_stats.success = {5, 500};
  s.inference_stats.queue = {5, 100};
  BatchStatistics b;
  b.batch_size = 4;
  b.compute_infer = {1, 77};
  s.batch_stats.push_back(b);
  api_.stats = {s};
  RestReply r = Call("GET", "/v2/models/m/stats");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"model_stats":[{"name":"m","version":"1","last_inference":42,)"
      R"("inference_count":5,"execution_count":2,"inference_stats":{)"
      R"("success":{"count":5,"ns":500},"fail":{"count":0,"ns":0},)"
      R"("queue":{"count":5,"ns":100},"compute_input":{"count":0,"ns":0},)"
      R"("compute_infer":{"count":0,"ns":0},"compute_output":{"count":0,"ns":0}},)"
      R"("batch_stats":[{"batch_size":4,"compute_input":{"count":0,"ns":0},)"
      R"("compute_infer":{"count":1,"ns":77},"compute_output":{"count":0,"ns":0}}]}]})");
  EXPECT_EQ(Call("GET", "/v2/models/stats").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/zz/stats").status, 404);
}

TEST_F(RestHandlerTest, RepositoryIndexLoadUnload) {
  RestReply r = Call("POST", "/v2/repository/index");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"([{"name":"m","version":"1","state":"READY"},)"
            R"({"name":"broken","state":"UNAVAILABLE","reason":"bad"}])");
  EXPECT_FALSE(api_.last_ready_only);
  EXPECT_EQ(Call("POST", "/v2/repository/index", R"({"ready":true})").status,
            200);
  EXPECT_TRUE(api_.last_ready_only);
  EXPECT_EQ(Call("POST", "/v2/repository/index", "{").status, 400);

  const std::string body =
      R"({"parameters":{"config":"{\"backend\":\"identity\"}",)"
      R"("file:1/model.bin":")" +
      absl::Base64Escape("\x01\x02") + "\"}}";
  r = Call("POST", "/v2/repository/models/m2/load", body);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(api_.last_load_model, "m2");
  EXPECT_EQ(api_.last_load_model, "m2");
  EXPECT_EQ(api_.last_load.config_json, R"({"backend":"identity"})");
  EXPECT_THAT(api_.last_load.files,
              Contains(Pair("1/model.bin", std::string("\x01\x02"))));
  r = Call("POST", "/v2/repository/models/m2/load",
           R"({"parameters":{"file:1/x":"!!"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("base64"));

  r = Call("POST", "/v2/repository/models/m/unload",
           R"({"parameters":{"unload_dependents":true}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(api_.last_unload_dependents);
  api_.load_status = absl::NotFoundError("no model 'q' in the repository");
  r = Call("POST", "/v2/repository/models/q/unload");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("no model 'q'"));
}

TEST_F(RestHandlerTest, WrongMethodIs405WithAllow) {
  RestReply r = Call("GET", "/v2/models/m/infer");
  EXPECT_EQ(r.status, 405);
  EXPECT_THAT(r.headers, Contains(Pair("Allow", "POST")));
  EXPECT_EQ(Call("POST", "/v2/health/live").status, 405);
  EXPECT_EQ(Call("GET", "/nothing").status, 404);
}

TEST_F(RestHandlerTest, JsonInferRoundTrip) {
  RestReply r = Call("POST", "/v2/models/m/versions/1/infer",
                     R"({"id":"r1","parameters":{"priority":1,"timeout":99},)"
                     R"("inputs":[{"name":"a","datatype":"FP32","shape":[1,2],)"
                     R"("data":[[0.5,0.25]]}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(last_infer_completions_, 1);  // answered through the exchange
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"({"model_name":"m","model_version":"1","id":"r1","outputs":[)"
            R"({"name":"a_out","datatype":"FP32","shape":[1,2],)"
            R"("data":[0.5,0.25]}]})");
  EXPECT_EQ(api_.last_request.priority, 1u);
  EXPECT_EQ(api_.last_request.timeout_us, 99u);
  EXPECT_EQ(api_.last_request.model_version, 1);
  EXPECT_NE(api_.last_request.cancellation, nullptr);
}

TEST_F(RestHandlerTest, BinaryInferRoundTrip) {
  const std::string json =
      R"({"inputs":[{"name":"a","datatype":"INT32","shape":[2],)"
      R"("parameters":{"binary_data_size":8}}],)"
      R"("outputs":[{"name":"a_out","parameters":{"binary_data":true}}]})";
  const int32_t v[2] = {7, -8};
  std::string body = json + std::string(reinterpret_cast<const char*>(v), 8);
  RestReply r = Call("POST", "/v2/models/m/infer", body,
                     "application/octet-stream", json.size());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/octet-stream");
  ASSERT_THAT(r.headers,
              Contains(::testing::Key("Inference-Header-Content-Length")));
  size_t header_length = 0;
  for (auto& [k, val] : r.headers) {
    if (k == "Inference-Header-Content-Length") header_length = std::stoul(val);
  }
  EXPECT_THAT(r.body.substr(0, header_length),
              HasSubstr(R"("parameters":{"binary_data_size":8})"));
  EXPECT_EQ(r.body.size(), header_length);  // the tensor bytes follow it
  ASSERT_EQ(r.tail.size(), 1u);
  EXPECT_EQ(std::string(r.tail[0].data(), r.tail[0].size()),
            std::string(reinterpret_cast<const char*>(v), 8));
}

TEST_F(RestHandlerTest, RawBinaryInfer) {
  // Inference-Header-Content-Length: 0 is what makes a body raw (Triton's
  // rule), whatever its Content-Type; the answer comes as binary.
  const float f[2] = {1.5f, 2.5f};
  const std::string raw(reinterpret_cast<const char*>(f), 8);
  for (const char* type : {"application/octet-stream", ""}) {
    RestReply r = Call("POST", "/v2/models/m/infer", raw, type, 0);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_THAT(
        r.body,
        HasSubstr(R"("shape":[1,2],"parameters":{"binary_data_size":8})"));
    ASSERT_EQ(r.tail.size(), 1u);
    EXPECT_EQ(std::string(r.tail[0].data(), 8), raw);
  }
  // Without the header the body is JSON, as Triton reads it.
  EXPECT_EQ(Call("POST", "/v2/models/m/infer", raw, "application/octet-stream")
                .status,
            400);
}

TEST_F(RestHandlerTest, InferErrors) {
  RestReply r = Call("POST", "/v2/models/m/infer", "{bad");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("malformed JSON"));
  EXPECT_EQ(api_.infer_calls, 0);

  api_.mode = FakeServerApi::Mode::kFail;
  r = Call(
      "POST", "/v2/models/m/infer",
      R"({"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1]}]})");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.headers, Contains(Pair("Retry-After", "1")));
  EXPECT_EQ(r.body, R"({"error":"queue of model 'm' is full"})");

  // A refusal that predicts its drain time says so.
  absl::Status busy = absl::UnavailableError("over budget");
  SetRetryAfter(&busy, 7);
  api_.fail_status = busy;
  r = Call(
      "POST", "/v2/models/m/infer",
      R"({"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1]}]})");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.headers, Contains(Pair("Retry-After", "7")));

  api_.fail_status = absl::DeadlineExceededError("timed out");
  r = Call(
      "POST", "/v2/models/m/infer",
      R"({"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1]}]})");
  EXPECT_EQ(r.status, 504);

  r = Call("POST", "/v2/models/zz/infer", "abc", "application/octet-stream");
  EXPECT_EQ(r.status, 404);
}

TEST_F(RestHandlerTest, HeldInferAnswersLaterThroughTheExchange) {
  api_.mode = FakeServerApi::Mode::kHold;
  const std::string body =
      R"({"inputs":[{"name":"a","datatype":"FP32","shape":[1,2],"data":[1,2]}]})";
  RestRequest request;
  request.method = "POST";
  request.target = "/v2/models/m/infer";
  request.body = body;
  TestExchange exchange;
  handler_.Handle(request, &exchange);
  EXPECT_FALSE(exchange.reply.has_value());
  ASSERT_TRUE(api_.CompleteHeld());
  ASSERT_TRUE(exchange.reply.has_value());
  EXPECT_EQ(exchange.reply->status, 200);
}

TEST_F(RestHandlerTest, OverloadIsRefusedBeforeTheBodyIsDecoded) {
  api_.admission = absl::UnavailableError("model 'm' is overloaded");
  RestReply r = Call("POST", "/v2/models/m/infer", "{not even json");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("overloaded"));
  EXPECT_EQ(api_.infer_calls, 0);
}

TEST_F(RestHandlerTest, BinaryOutputsTravelAsTheReplyTail) {
  RestReply r = Call(
      "POST", "/v2/models/m/infer",
      R"({"inputs":[{"name":"a","datatype":"FP32","shape":[1,2],"data":[1,2]}],)"
      R"("outputs":[{"name":"a_out","parameters":{"binary_data":true}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.tail.size(), 1u);
  ASSERT_EQ(r.tail[0].size(), 8u);
  float v[2];
  std::memcpy(v, r.tail[0].data(), 8);
  EXPECT_EQ(v[0], 1.f);
  EXPECT_EQ(v[1], 2.f);
  EXPECT_THAT(r.body, HasSubstr(R"("binary_data_size":8)"));
}

TEST_F(RestHandlerTest, SystemSharedMemoryRegisterStatusUnregister) {
  RestReply r = Call("POST", "/v2/systemsharedmemory/region/in0/register",
                     R"({"key":"/in0","offset":64,"byte_size":128})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = Call("GET", "/v2/systemsharedmemory/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"([{"name":"in0","key":"/in0","offset":64,"byte_size":128}])");
  r = Call("GET", "/v2/systemsharedmemory/region/in0/status");
  EXPECT_EQ(r.status, 200);
  r = Call("GET", "/v2/systemsharedmemory/region/nope/status");
  EXPECT_EQ(r.status, 404);
  r = Call("POST", "/v2/systemsharedmemory/region/in0/unregister");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(api_.regions.empty());
}

TEST_F(RestHandlerTest, SharedMemoryRegisterBodyErrors) {
  struct Case {
    const char* target;
    const char* body;
    const char* message;
  } cases[] = {
      {"/v2/systemsharedmemory/register", R"({"key":"/k","byte_size":1})",
       "'region name' is necessary"},
      {"/v2/systemsharedmemory/region/r/register", "", "no 'key' field"},
      {"/v2/systemsharedmemory/region/r/register", R"({"byte_size":1})",
       "no 'key' field"},
      {"/v2/systemsharedmemory/region/r/register", R"({"key":"/k"})",
       "no 'byte_size' field"},
      {"/v2/systemsharedmemory/region/r/register",
       R"({"key":"/k","byte_size":-1})", "no 'byte_size' field"},
      {"/v2/systemsharedmemory/region/r/register",
       R"({"key":"/k","byte_size":1,"offset":"0"})",
       "'offset' must be a non-negative integer"},
      {"/v2/systemsharedmemory/region/r/register", "{", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    RestReply r = Call("POST", c.target, c.body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_THAT(r.body, HasSubstr(c.message));
  }
  EXPECT_TRUE(api_.regions.empty());
}

TEST_F(RestHandlerTest, CudaSharedMemoryIsAnsweredButNotSupported) {
  RestReply r = Call("GET", "/v2/cudasharedmemory/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[]");
  // Triton's clients unregister everything first: that succeeds.
  r = Call("POST", "/v2/cudasharedmemory/unregister");
  EXPECT_EQ(r.status, 200);
  r = Call("POST", "/v2/cudasharedmemory/region/g/register",
           R"({"raw_handle":{"b64":""},"device_id":0,"byte_size":4})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("failed to register CUDA shared memory region: "
                                "'g', GPUs not supported"));
}

TEST_F(RestHandlerTest, TraceSettingsInTritonsShape) {
  api_.trace.level = {"TIMESTAMPS"};
  api_.trace.rate = 10;
  api_.trace.file = "/tmp/t.json";
  RestReply r = Call("GET", "/v2/trace/setting");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"trace_level":["TIMESTAMPS"],"trace_rate":"10",)"
                    R"("trace_count":"-1","log_frequency":"0",)"
                    R"("trace_file":"/tmp/t.json","trace_mode":"triton"})");
  r = Call("GET", "/v2/models/nope/trace/setting");
  EXPECT_EQ(r.status, 404);
  r = Call("POST", "/v2/models/m/trace/setting",
           R"({"trace_rate":"5","trace_count":3,"trace_level":[],)"
           R"("log_frequency":null,"trace_level":["TIMESTAMPS","TENSORS"]})");
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(api_.last_trace_updates.size(), 4u);
  EXPECT_EQ(api_.last_trace_updates[0].key, "trace_rate");
  EXPECT_EQ(api_.last_trace_updates[0].values[0], "5");
  EXPECT_EQ(api_.last_trace_updates[1].values[0], "3");
  EXPECT_TRUE(api_.last_trace_updates[2].clear);
  EXPECT_EQ(api_.last_trace_updates[3].values.size(), 2u);
  r = Call("POST", "/v2/trace/setting", R"({"trace_rate":{"x":1}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("Unable to parse 'trace_rate'"));
}

}  // namespace
}  // namespace serval::http

namespace serval::http {
namespace {

// The handler behind --http-restricted-api: each endpoint's group, 401
// without a credential, 403 with a wrong one, before anything else is
// said about the endpoint.
class RestHandlerAccessTest : public ::testing::Test {
 protected:
  RestHandlerAccessTest()
      : policy_(*AccessPolicy::Parse(
            {"model-repository,shared-memory,trace,logging:bearer=tok",
             "inference,statistics,model-config:x-key=v"},
            AccessProtocol::kHttp, "--http-restricted-api")),
        handler_(&api_, &blocking_, &policy_) {}

  RestReply Call(const std::string& method, const std::string& target,
                 std::map<std::string, std::string> headers = {}) {
    RestRequest request;
    request.method = method;
    request.target = target;
    request.body = body_;
    request.cancellation = &cancellation_;
    const AccessPolicy::HeaderLookup lookup =
        [&headers](std::string_view name) -> std::optional<std::string_view> {
      auto it = headers.find(std::string(name));
      if (it == headers.end()) return std::nullopt;
      return std::string_view(it->second);
    };
    request.headers = &lookup;
    TestExchange exchange;
    handler_.Handle(request, &exchange);
    EXPECT_TRUE(exchange.reply.has_value()) << target;
    return exchange.reply ? std::move(*exchange.reply) : RestReply{};
  }

  FakeServerApi api_;
  InlineExecutor blocking_;
  AccessPolicy policy_;
  RestHandler handler_;
  std::string body_ = "{}";
  CancellationFlag cancellation_;
};

TEST_F(RestHandlerAccessTest, EveryRestrictedEndpointAsksForItsCredential) {
  const std::vector<std::pair<std::string, std::string>> bearer = {
      {"POST", "/v2/repository/index"},
      {"POST", "/v2/repository/models/m/load"},
      {"POST", "/v2/repository/models/m/unload"},
      {"GET", "/v2/systemsharedmemory/status"},
      {"POST", "/v2/cudasharedmemory/region/r/unregister"},
      {"GET", "/v2/trace/setting"},
      {"POST", "/v2/models/m/trace/setting"},
      {"GET", "/v2/logging"}};
  for (const auto& [method, target] : bearer) {
    RestReply r = Call(method, target);
    EXPECT_EQ(r.status, 401) << target;
    EXPECT_THAT(r.headers,
                Contains(Pair("WWW-Authenticate", "Bearer realm=\"serval\"")))
        << target;
    EXPECT_EQ(Call(method, target, {{"authorization", "Bearer nope"}}).status,
              403)
        << target;
    EXPECT_NE(Call(method, target, {{"authorization", "Bearer tok"}}).status,
              401)
        << target;
  }
  for (const std::string target :
       {"/v2/models/m/stats", "/v2/models/m/config"}) {
    EXPECT_EQ(Call("GET", target).status, 401) << target;
    EXPECT_EQ(Call("GET", target, {{"x-key", "w"}}).status, 403) << target;
    EXPECT_EQ(Call("GET", target, {{"x-key", "v"}}).status, 200) << target;
  }
  EXPECT_EQ(Call("POST", "/v2/models/m/infer").status, 401);
}

TEST_F(RestHandlerAccessTest, OpenGroupsAndOrdering) {
  EXPECT_EQ(Call("GET", "/v2/health/ready").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/m/ready").status, 200);
  EXPECT_EQ(Call("GET", "/v2").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/m").status, 200);
  // A wrong method on a restricted endpoint: 401 first, 405 once allowed.
  EXPECT_EQ(Call("GET", "/v2/repository/models/m/load").status, 401);
  EXPECT_EQ(Call("GET", "/v2/repository/models/m/load",
                 {{"authorization", "Bearer tok"}})
                .status,
            405);
  // Unknown paths stay 404 for everyone.
  EXPECT_EQ(Call("GET", "/v2/nothing").status, 404);
}

TEST_F(RestHandlerAccessTest, CheckedOnTheHeaderThenNotAgain) {
  const AccessPolicy::HeaderLookup none =
      [](std::string_view) -> std::optional<std::string_view> {
    return std::nullopt;
  };
  // What the connection asks before it reads a body.
  auto refused = handler_.CheckAccessFor("/v2/models/m/stats", &none);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 401);
  EXPECT_FALSE(handler_.CheckAccessFor("/v2/health/ready", &none).has_value());
  EXPECT_FALSE(handler_.CheckAccessFor("/v2/unknown", &none).has_value());
  // A request the connection already checked is not checked again.
  RestRequest request;
  request.method = "GET";
  request.target = "/v2/models/m/stats";
  request.body = body_;
  request.cancellation = &cancellation_;
  request.access_checked = true;
  TestExchange exchange;
  handler_.Handle(request, &exchange);
  ASSERT_TRUE(exchange.reply.has_value());
  EXPECT_EQ(exchange.reply->status, 200);
}

TEST(RestHandlerOpenTest, NothingRestrictedNothingChecked) {
  FakeServerApi api;
  InlineExecutor blocking;
  const AccessPolicy open;
  EXPECT_FALSE(open.restricts_any());
  RestHandler handler(&api, &blocking, &open);
  EXPECT_FALSE(
      handler.CheckAccessFor("/v2/repository/index", nullptr).has_value());
}

TEST_F(RestHandlerAccessTest, RefusalsDoNotNameTheCredential) {
  for (const RestReply& r :
       {Call("GET", "/v2/models/m/stats"),
        Call("GET", "/v2/models/m/stats", {{"x-key", "w"}})}) {
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr("x-key")));
    EXPECT_THAT(r.body, HasSubstr("restricted"));
  }
}

}  // namespace
}  // namespace serval::http
