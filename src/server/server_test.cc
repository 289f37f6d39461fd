// In-process inference through the real identity plugin: the Server facade,
// model manager, scheduler and backend host together, without a frontend.
#include "server/server.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "gtest/gtest.h"
#include "lifecycle/model_loader.h"

namespace serval {
namespace {
namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("serval_server_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    Write(root_ / "ident" / "config.pbtxt", R"(
      name: "ident" backend: "identity" max_batch_size: 8
      input [ { name: "IN" data_type: TYPE_FP32 dims: [ 4 ] } ]
      output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
      dynamic_batching { }
      parameters { key: "delay_us" value { string_value: "2000" } })");
    fs::create_directories(root_ / "ident" / "1");
    fs::create_directories(root_ / "ident" / "2");
    Write(root_ / "broken" / "config.pbtxt",
          "name: \"broken\" backend: \"nosuch\"");
    fs::create_directories(root_ / "broken" / "1");
    BackendLoaderOptions lo;
    lo.backend_directory = SERVAL_TEST_BACKEND_DIR;
    lo.reaper = &reaper_;
    loader_ = std::make_unique<BackendVersionLoader>(lo);
    ManagerOptions o;
    o.repositories = {root_.string()};
    o.loader = loader_.get();
    manager_ = std::make_unique<ModelManager>(o);
    ASSERT_TRUE(manager_->LoadAll().ok());
    server_ = std::make_unique<Server>(manager_.get());
    server_->SetReady(true);  // as serve does after the start-up load
  }
  void TearDown() override {
    // As `serve` does: the schedulers finish (and stop calling into the
    // server) before the server goes. A worker still returning from
    // Server::Complete after the last answer woke the test would
    // otherwise touch a destroyed server.
    manager_->StopAll();
    server_.reset();
    manager_.reset();
    fs::remove_all(root_);
  }

  // Keeps the response of one request for the test thread.
  struct Answer final : InferCompletion {
    std::promise<InferenceResponse> promise;
    void OnInferComplete(InferenceResponse r) override {
      promise.set_value(std::move(r));
    }
  };

  InferenceResponse InferSync(InferenceRequest r) {
    auto model = server_->Resolve(r.model_name, r.model_version);
    if (!model.ok()) {
      InferenceResponse failed;
      failed.status = model.status();
      return failed;
    }
    Answer answer;
    server_->Infer(*model, std::move(r), &answer);
    return answer.promise.get_future().get();
  }

  static InferenceRequest Request(const std::vector<float>& data,
                                  int64_t version = -1) {
    InferenceRequest r;
    r.model_name = "ident";
    r.model_version = version;
    r.inputs.push_back({"IN",
                        DataType::kFp32,
                        {static_cast<int64_t>(data.size() / 4), 4},
                        reinterpret_cast<const char*>(data.data()),
                        data.size() * 4});
    return r;
  }

  fs::path root_;
  ThreadPool reaper_{1};
  std::unique_ptr<BackendVersionLoader> loader_;
  std::unique_ptr<ModelManager> manager_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, InfersThroughTheIdentityBackend) {
  std::vector<float> data = {1, 2, 3, 4, 5, 6, 7, 8};
  auto r = InferSync(Request(data));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.model_name, "ident");
  EXPECT_EQ(r.model_version, 2);  // latest by default policy
  EXPECT_FALSE(r.id.empty());     // generated when the client gives none
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].shape, (Shape{2, 4}));
  EXPECT_EQ(std::memcmp(r.outputs[0].data.data(), data.data(), 32), 0);
}

TEST_F(ServerTest, LatestVersionPolicyLoadsOnlyTheNewest) {
  std::vector<float> data(4, 1.f);
  auto r = InferSync(Request(data, /*version=*/1));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(
      r.status.message().find("Request for unknown model: 'ident' version 1 is "
                              "not found (ready versions: 2)"),
      std::string::npos)
      << r.status;
}

TEST_F(ServerTest, UnknownModelIsNotFound) {
  EXPECT_EQ(server_->Resolve("nope", -1).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ServerTest, UnknownModelIsUnavailableDuringTheStartUpLoad) {
  // Before the start-up load is over a model may not be registered yet:
  // a client (or a load balancer) is told to retry, not that it is gone.
  server_->SetReady(false);
  auto early = server_->Resolve("nope", -1);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(early.status().message().find("still loading"), std::string::npos);
}

TEST_F(ServerTest, FailuresKeepTheClientsId) {
  std::vector<float> data(3, 1.f);
  InferenceRequest r = Request(data);
  r.id = "req-7";
  r.inputs[0].shape = {1, 3};
  auto resp = InferSync(std::move(r));
  EXPECT_EQ(resp.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(resp.id, "req-7");
}

TEST_F(ServerTest, ValidationErrorsReachTheCallback) {
  std::vector<float> data(3, 1.f);
  InferenceRequest r = Request(data);
  r.inputs[0].shape = {1, 3};
  auto resp = InferSync(std::move(r));
  EXPECT_EQ(resp.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(resp.status.message().find("expects shape [-1,4]"),
            std::string::npos);
}

TEST_F(ServerTest, BrokenModelIsReportedAndOthersServe) {
  bool found = false;
  for (const auto& e : server_->GetRepositoryIndex(false)) {
    if (e.name == "broken") {
      found = true;
      EXPECT_EQ(e.state, "UNAVAILABLE");
      EXPECT_NE(e.reason.find("backend 'nosuch' is not installed"),
                std::string::npos)
          << e.reason;
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(*server_->IsModelReady("ident", -1));
  EXPECT_FALSE(server_->IsModelReady("missing", -1).ok());
}

TEST_F(ServerTest, ConcurrentRequestsAreBatchedAndAllAnswered) {
  constexpr int kRequests = 32;
  std::vector<std::vector<float>> data(kRequests);
  std::vector<Answer> done(kRequests);
  auto model = server_->Resolve("ident", -1);
  ASSERT_TRUE(model.ok());
  for (int i = 0; i < kRequests; ++i) {
    data[i] = std::vector<float>(4, static_cast<float>(i));
    server_->Infer(*model, Request(data[i]), &done[i]);
  }
  for (int i = 0; i < kRequests; ++i) {
    auto r = done[i].promise.get_future().get();
    ASSERT_TRUE(r.status.ok()) << r.status;
    float v;
    std::memcpy(&v, r.outputs[0].data.data(), 4);
    EXPECT_EQ(v, static_cast<float>(i));  // each gets its own slice back
  }
  auto stats = server_->GetModelStatistics("ident", 2);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ((*stats)[0].inference_count, static_cast<uint64_t>(kRequests));
  // A 2 ms backend with 32 requests arriving at once: batches form.
  EXPECT_LT((*stats)[0].execution_count, static_cast<uint64_t>(kRequests));
}

TEST_F(ServerTest, MetadataShowsTheBatchDimension) {
  auto m = server_->GetModelMetadata("ident", -1);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->platform, "identity");
  EXPECT_EQ(m->versions, (std::vector<std::string>{"2"}));
  EXPECT_EQ(m->inputs[0].shape, (Shape{-1, 4}));
}

}  // namespace
}  // namespace serval
