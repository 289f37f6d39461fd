// Runs the real gRPC frontend in-process against a fake ServerApi and talks
// to it through the generated C++ stub.
#include "frontend/grpc/grpc_server.h"

#include <atomic>
#include <cstring>
#include <deque>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/absl_compat.h"
#include "common/executor.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/inference.grpc.pb.h"

namespace serval {
namespace {

using ::testing::HasSubstr;

// Completes requests on its own thread, as the real server does. Model
// "echo" returns its inputs; model "hold" waits until the request is
// cancelled; anything else is NOT_FOUND.
class FakeServer : public ServerApi {
 public:
  FakeServer() : worker_([this] { Work(); }) {}
  ~FakeServer() override {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    worker_.join();
  }

  bool IsLive() const override { return true; }
  bool IsReady() const override { return ready_; }
  ServerMetadata GetServerMetadata() const override {
    return {"serval", "0.1.0", {"statistics"}};
  }
  absl::StatusOr<ModelMetadata> GetModelMetadata(
      std::string_view model, int64_t version) const override {
    if (model != "echo") return absl::NotFoundError("unknown model");
    return ModelMetadata{"echo",
                         {"1"},
                         "identity",
                         {{"x", DataType::kFp32, {-1}}},
                         {{"x", DataType::kFp32, {-1}}}};
  }
  absl::StatusOr<bool> IsModelReady(std::string_view model,
                                    int64_t version) const override {
    if (model != "echo") return absl::NotFoundError("unknown model");
    return version == -1 || version == 1;
  }
  absl::StatusOr<inference::ModelConfig> GetModelConfig(
      std::string_view model, int64_t version) const override {
    inference::ModelConfig config;
    config.set_name(std::string(model));
    return config;
  }
  absl::StatusOr<std::vector<ModelStatistics>> GetModelStatistics(
      std::string_view model, int64_t version) const override {
    ModelStatistics s;
    s.name = "echo";
    s.version = "1";
    s.inference_count = 7;
    s.inference_stats.success = {7, 700};
    s.batch_stats.push_back({1, {7, 1}, {7, 2}, {7, 3}});
    return std::vector<ModelStatistics>{s};
  }
  std::vector<RepositoryEntry> GetRepositoryIndex(
      bool ready_only) const override {
    return {{"echo", "1", "READY", ""}};
  }
  absl::Status LoadModel(std::string_view model,
                         const LoadOptions& options) override {
    absl::MutexLock lock(&mu_);
    last_load_config_ = options.config_json;
    return model == "echo" ? absl::OkStatus()
                           : absl::NotFoundError("no such model to load");
  }
  absl::Status UnloadModel(std::string_view model,
                           bool unload_dependents) override {
    return absl::OkStatus();
  }
  absl::StatusOr<ModelRef> Resolve(std::string_view model,
                                   int64_t version) const override {
    if (model == "echo") return ModelRef(nullptr, &echo_name_, 1, &spec_);
    if (model == "hold") return ModelRef(nullptr, &hold_name_, 1, &spec_);
    return absl::NotFoundError(
        absl::StrCat("unknown model '", ToAbsl(model), "'"));
  }
  void Infer(const ModelRef& model, InferenceRequest request,
             InferCompletion* done) override {
    request.model_name = model.name();
    absl::MutexLock lock(&mu_);
    queue_.push_back({std::move(request), done});
  }

  std::atomic<bool> ready_{true};
  std::atomic<int> cancelled_seen_{0};
  absl::Mutex mu_;
  std::string last_load_config_ ABSL_GUARDED_BY(mu_);
  InferenceRequest last_request_ ABSL_GUARDED_BY(mu_);

 private:
  struct Item {
    InferenceRequest request;
    InferCompletion* done = nullptr;
  };
  const std::string echo_name_ = "echo";
  const std::string hold_name_ = "hold";
  const ModelSpec spec_;

  void Work() {
    while (true) {
      Item item;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](FakeServer* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
              return s->stop_ || !s->queue_.empty();
            },
            this));
        if (queue_.empty()) return;
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      if (item.request.model_name == "hold") {
        for (int i = 0; i < 2000 && !item.request.cancellation->IsCancelled();
             ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (item.request.cancellation->IsCancelled()) ++cancelled_seen_;
        InferenceResponse r;
        r.status = absl::CancelledError("request cancelled");
        item.done->OnInferComplete(std::move(r));
        continue;
      }
      InferenceResponse r;
      r.model_name = item.request.model_name;
      r.model_version = 1;
      r.id = item.request.id;
      if (item.request.model_name != "echo") {
        r.status = absl::NotFoundError(
            absl::StrCat("unknown model '", item.request.model_name, "'"));
      } else {
        for (const TensorView& in : item.request.inputs) {
          OutputTensor out;
          out.name = in.name;
          out.datatype = in.datatype;
          out.shape = in.shape;
          out.data.Resize(in.byte_size);
          if (in.byte_size > 0)
            std::memcpy(out.data.data(), in.data, in.byte_size);
          r.outputs.push_back(std::move(out));
        }
      }
      {
        absl::MutexLock lock(&mu_);
        last_request_ = std::move(item.request);
        last_request_.inputs.clear();
        last_request_.owned_data.clear();
        last_request_.cancellation = nullptr;
      }
      item.done->OnInferComplete(std::move(r));
    }
  }

  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  std::thread worker_;
};

class GrpcServerTest : public ::testing::Test {
 protected:
  void StartServer(GrpcOptions options = {}) {
    options.address = "127.0.0.1";
    options.port = 0;
    absl::StatusOr<std::unique_ptr<GrpcServer>> s =
        GrpcServer::Start(options, &fake_, &blocking_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = inference::GRPCInferenceService::NewStub(channel_);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }

  static inference::ModelInferRequest EchoRequest(const std::string& id) {
    inference::ModelInferRequest req;
    req.set_model_name("echo");
    req.set_id(id);
    auto* in = req.add_inputs();
    in->set_name("x");
    in->set_datatype("FP32");
    in->add_shape(2);
    const float v[] = {1.5f, -3.0f};
    req.add_raw_input_contents(
        std::string(reinterpret_cast<const char*>(v), 8));
    return req;
  }

  // grpc.health.v1.Health/Check through a generic call (the health proto is
  // not installed for C++): returns the status enum, or -1 on RPC failure.
  int HealthStatus(const std::string& service) {
    // HealthCheckRequest{service = 1}, hand-encoded.
    std::string request =
        "\x0a" + std::string(1, static_cast<char>(service.size())) + service;
    grpc::Slice slice(request);
    grpc::ByteBuffer request_buffer(&slice, 1);
    grpc::GenericStub stub(channel_);
    grpc::CompletionQueue cq;
    grpc::ClientContext ctx;
    auto call = stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check",
                                      request_buffer, &cq);
    call->StartCall();
    grpc::ByteBuffer response;
    grpc::Status status;
    call->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag;
    bool ok;
    cq.Next(&tag, &ok);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    if (!status.ok()) return -1;
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    // HealthCheckResponse{status = 1}: tag 0x08 then the enum value.
    return bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : 0;
  }

  FakeServer fake_;
  ThreadPool blocking_{1};
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(GrpcServerTest, HealthAndMetadataRpcs) {
  StartServer();
  grpc::ClientContext c1;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&c1, {}, &live).ok());
  EXPECT_TRUE(live.live());

  fake_.ready_ = false;
  grpc::ClientContext c2;
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&c2, {}, &ready).ok());
  EXPECT_FALSE(ready.ready());

  grpc::ClientContext c3;
  inference::ModelMetadataRequest mreq;
  mreq.set_name("echo");
  inference::ModelMetadataResponse meta;
  ASSERT_TRUE(stub_->ModelMetadata(&c3, mreq, &meta).ok());
  EXPECT_EQ(meta.inputs(0).datatype(), "FP32");
  EXPECT_EQ(meta.inputs(0).shape(0), -1);

  grpc::ClientContext c4;
  mreq.set_name("nope");
  grpc::Status s = stub_->ModelMetadata(&c4, mreq, &meta);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext c5;
  inference::ModelReadyRequest rreq;
  rreq.set_name("echo");
  rreq.set_version("x");
  inference::ModelReadyResponse rresp;
  s = stub_->ModelReady(&c5, rreq, &rresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("version string 'x'"));

  grpc::ClientContext c6;
  inference::ModelStatisticsResponse stats;
  ASSERT_TRUE(stub_->ModelStatistics(&c6, {}, &stats).ok());
  EXPECT_EQ(stats.model_stats(0).inference_count(), 7u);
  EXPECT_EQ(stats.model_stats(0).inference_stats().success().ns(), 700u);
  EXPECT_EQ(stats.model_stats(0).batch_stats(0).compute_output().ns(), 3u);
}

TEST_F(GrpcServerTest, HealthFollowsReadiness) {
  constexpr int kServing = 1;
  constexpr int kNotServing = 2;
  GrpcOptions options;
  options.health_poll_interval = std::chrono::milliseconds(10);
  StartServer(options);
  EXPECT_EQ(HealthStatus(""), kServing);
  EXPECT_EQ(HealthStatus("inference.GRPCInferenceService"), kServing);
  EXPECT_EQ(HealthStatus("no.such.Service"), -1);
  fake_.ready_ = false;
  int status = kServing;
  for (int i = 0; i < 200 && status != kNotServing; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    status = HealthStatus("inference.GRPCInferenceService");
  }
  EXPECT_EQ(status, kNotServing);
  EXPECT_EQ(HealthStatus(""), kNotServing);
  fake_.ready_ = true;
  for (int i = 0; i < 200 && status != kServing; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    status = HealthStatus("");
  }
  EXPECT_EQ(status, kServing);
}

TEST_F(GrpcServerTest, HealthTurnsServingOnceReady) {
  fake_.ready_ = false;
  GrpcOptions options;
  options.health_poll_interval = std::chrono::milliseconds(10);
  StartServer(options);
  EXPECT_EQ(HealthStatus("inference.GRPCInferenceService"), 2);
  fake_.ready_ = true;
  int status = 2;
  for (int i = 0; i < 200 && status != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    status = HealthStatus("inference.GRPCInferenceService");
  }
  EXPECT_EQ(status, 1);
}

TEST_F(GrpcServerTest, InferEchoesTensorsAndId) {
  StartServer();
  inference::ModelInferRequest req = EchoRequest("r1");
  (*req.mutable_parameters())["priority"].set_int64_param(3);
  grpc::ClientContext ctx;
  inference::ModelInferResponse resp;
  grpc::Status s = stub_->ModelInfer(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.id(), "r1");
  EXPECT_EQ(resp.model_version(), "1");
  ASSERT_EQ(resp.raw_output_contents_size(), 1);
  EXPECT_EQ(resp.raw_output_contents(0), req.raw_input_contents(0));
  absl::MutexLock lock(&fake_.mu_);
  EXPECT_EQ(fake_.last_request_.priority, 3u);
}

TEST_F(GrpcServerTest, ErrorsMapToGrpcCodesWithId) {
  StartServer();
  inference::ModelInferRequest req = EchoRequest("r2");
  req.set_model_name("missing");
  grpc::ClientContext c1;
  inference::ModelInferResponse resp;
  grpc::Status s = stub_->ModelInfer(&c1, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("unknown model 'missing'"));
  EXPECT_THAT(s.error_message(), HasSubstr("r2"));

  req = EchoRequest("r3");
  req.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.0f);
  grpc::ClientContext c2;
  s = stub_->ModelInfer(&c2, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("contents field must not be specified when using "
                        "raw_input_contents for 'x' for model 'echo'"));
}

TEST_F(GrpcServerTest, StreamAnswersEveryRequestAndStaysOpen) {
  StartServer();
  grpc::ClientContext ctx;
  auto stream = stub_->ModelStreamInfer(&ctx);
  inference::ModelInferRequest bad = EchoRequest("bad");
  bad.mutable_inputs(0)->set_datatype("FP99");
  ASSERT_TRUE(stream->Write(EchoRequest("good1")));
  ASSERT_TRUE(stream->Write(bad));
  ASSERT_TRUE(stream->Write(EchoRequest("good2")));
  std::map<std::string, std::string> errors;
  for (int i = 0; i < 3; ++i) {
    inference::ModelStreamInferResponse r;
    ASSERT_TRUE(stream->Read(&r));
    errors[r.infer_response().id()] = r.error_message();
  }
  EXPECT_EQ(errors["good1"], "");
  EXPECT_EQ(errors["good2"], "");
  EXPECT_THAT(errors["bad"], HasSubstr("unknown datatype 'FP99'"));
  // Still open after the error.
  ASSERT_TRUE(stream->Write(EchoRequest("good3")));
  inference::ModelStreamInferResponse r;
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_EQ(r.infer_response().id(), "good3");
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GrpcServerTest, CancellingAStreamCancelsItsRequests) {
  StartServer();
  grpc::ClientContext ctx;
  auto stream = stub_->ModelStreamInfer(&ctx);
  inference::ModelInferRequest req = EchoRequest("s");
  req.set_model_name("hold");
  ASSERT_TRUE(stream->Write(req));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ctx.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  for (int i = 0; i < 400 && fake_.cancelled_seen_ == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(fake_.cancelled_seen_, 1);
}

TEST_F(GrpcServerTest, ConcurrentUnaryAndStreamCalls) {
  StartServer();
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([this, t, &failures] {
      for (int i = 0; i < 100; ++i) {
        grpc::ClientContext ctx;
        inference::ModelInferRequest req =
            EchoRequest(absl::StrCat("u", t, "-", i));
        inference::ModelInferResponse resp;
        grpc::Status s = stub_->ModelInfer(&ctx, req, &resp);
        if (!s.ok() || resp.id() != req.id() ||
            resp.raw_output_contents(0) != req.raw_input_contents(0)) {
          ++failures;
        }
      }
    });
  }
  grpc::ClientContext ctx;
  auto stream = stub_->ModelStreamInfer(&ctx);
  constexpr int kStreamed = 500;
  std::thread writer([&stream] {
    for (int i = 0; i < kStreamed; ++i) {
      inference::ModelInferRequest req = EchoRequest(absl::StrCat("s", i));
      if (i % 7 == 0) req.set_model_name("missing");
      stream->Write(req);
    }
    stream->WritesDone();
  });
  std::set<std::string> ids;
  int errors = 0;
  inference::ModelStreamInferResponse r;
  while (stream->Read(&r)) {
    ids.insert(r.infer_response().id());
    if (!r.error_message().empty()) ++errors;
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  for (std::thread& c : clients) c.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kStreamed));
  EXPECT_EQ(errors, (kStreamed + 6) / 7);
}

TEST_F(GrpcServerTest, DeadlineCancelsTheRequest) {
  StartServer();
  inference::ModelInferRequest req = EchoRequest("slow");
  req.set_model_name("hold");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(200));
  inference::ModelInferResponse resp;
  grpc::Status s = stub_->ModelInfer(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  for (int i = 0; i < 400 && fake_.cancelled_seen_ == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(fake_.cancelled_seen_, 1);
}

TEST_F(GrpcServerTest, ClientCancellationReachesTheRequest) {
  StartServer();
  inference::ModelInferRequest req = EchoRequest("c");
  req.set_model_name("hold");
  grpc::ClientContext ctx;
  std::thread canceller([&ctx] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    ctx.TryCancel();
  });
  inference::ModelInferResponse resp;
  grpc::Status s = stub_->ModelInfer(&ctx, req, &resp);
  canceller.join();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED);
  for (int i = 0; i < 400 && fake_.cancelled_seen_ == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(fake_.cancelled_seen_, 1);
}

TEST_F(GrpcServerTest, OversizeMessageIsResourceExhausted) {
  GrpcOptions options;
  options.max_message_bytes = 64 * 1024;
  StartServer(options);
  inference::ModelInferRequest req = EchoRequest("big");
  req.mutable_inputs(0)->set_shape(0, 32 * 1024);
  req.set_raw_input_contents(0, std::string(128 * 1024, '\0'));
  grpc::ClientContext ctx;
  inference::ModelInferResponse resp;
  grpc::Status s = stub_->ModelInfer(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(GrpcServerTest, RepositoryRpcs) {
  StartServer();
  grpc::ClientContext c1;
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("echo");
  (*load.mutable_parameters())["config"].set_string_param("{\"x\":1}");
  inference::RepositoryModelLoadResponse lresp;
  ASSERT_TRUE(stub_->RepositoryModelLoad(&c1, load, &lresp).ok());
  {
    absl::MutexLock lock(&fake_.mu_);
    EXPECT_EQ(fake_.last_load_config_, "{\"x\":1}");
  }
  grpc::ClientContext c2;
  load.set_model_name("other");
  EXPECT_EQ(stub_->RepositoryModelLoad(&c2, load, &lresp).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext c3;
  (*load.mutable_parameters())["config"].set_int64_param(1);
  grpc::Status s = stub_->RepositoryModelLoad(&c3, load, &lresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext c4;
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(stub_->RepositoryIndex(&c4, {}, &index).ok());
  EXPECT_EQ(index.models(0).state(), "READY");
  grpc::ClientContext c5;
  inference::ModelConfigRequest creq;
  creq.set_name("echo");
  inference::ModelConfigResponse cresp;
  ASSERT_TRUE(stub_->ModelConfig(&c5, creq, &cresp).ok());
  EXPECT_EQ(cresp.config().name(), "echo");
}

TEST_F(GrpcServerTest, StopCancelsCallsStillRunning) {
  StartServer();
  inference::ModelInferRequest req = EchoRequest("h");
  req.set_model_name("hold");
  grpc::Status status;
  std::thread client([&] {
    grpc::ClientContext ctx;
    inference::ModelInferResponse resp;
    status = stub_->ModelInfer(&ctx, req, &resp);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop(std::chrono::milliseconds(100));
  client.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(status.ok());
  server_->Stop();  // idempotent
}

TEST_F(GrpcServerTest, BusyPortIsAnError) {
  StartServer();
  GrpcOptions options;
  options.address = "127.0.0.1";
  options.port = server_->port();
  absl::StatusOr<std::unique_ptr<GrpcServer>> second =
      GrpcServer::Start(options, &fake_, &blocking_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace serval
