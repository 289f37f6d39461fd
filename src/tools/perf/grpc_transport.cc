#include "tools/perf/grpc_transport.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "proto/inference.grpc.pb.h"

namespace serval::perf {
namespace {

// One request in flight; deletes itself when gRPC reports completion.
struct Call {
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  DoneCallback done;
};

std::string CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  if (i >= 0 && i < 17) return kNames[i];
  return std::to_string(i);
}

absl::Status FromGrpc(const grpc::Status& s, std::string_view what) {
  return absl::UnavailableError(absl::StrCat(std::string(what), ": gRPC ",
                                             CodeName(s.error_code()), " ",
                                             s.error_message()));
}

Duration FromProto(const inference::StatisticDuration& d) {
  return {d.count(), d.ns()};
}

class GrpcTransport : public Transport {
 public:
  explicit GrpcTransport(const TargetOptions& o) : options_(o) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    channel_ =
        grpc::CreateCustomChannel(absl::StrCat(o.host, ":", o.port),
                                  grpc::InsecureChannelCredentials(), args);
    stub_ = inference::GRPCInferenceService::NewStub(channel_);
  }

  absl::StatusOr<ModelInfo> FetchModelInfo() override {
    inference::ModelMetadataRequest req;
    req.set_name(options_.model);
    req.set_version(options_.version);
    inference::ModelMetadataResponse meta;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    grpc::Status s = stub_->ModelMetadata(&ctx, req, &meta);
    if (!s.ok()) return FromGrpc(s, "ModelMetadata");
    ModelInfo info;
    for (const auto& in : meta.inputs()) {
      info.inputs.push_back(
          {in.name(), in.datatype(), {in.shape().begin(), in.shape().end()}});
    }
    inference::ModelConfigRequest creq;
    creq.set_name(options_.model);
    creq.set_version(options_.version);
    inference::ModelConfigResponse config;
    grpc::ClientContext cctx;
    cctx.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(30));
    // The config is a Triton extension: without it, assume no batching.
    if (stub_->ModelConfig(&cctx, creq, &config).ok()) {
      info.max_batch_size = config.config().max_batch_size();
    }
    return info;
  }

  absl::StatusOr<ServerStats> FetchStats() override {
    inference::ModelStatisticsRequest req;
    req.set_name(options_.model);
    req.set_version(options_.version);
    inference::ModelStatisticsResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    grpc::Status s = stub_->ModelStatistics(&ctx, req, &resp);
    if (!s.ok()) return FromGrpc(s, "ModelStatistics");
    ServerStats total;
    for (const auto& m : resp.model_stats()) {
      ServerStats one;
      one.inference_count = m.inference_count();
      one.execution_count = m.execution_count();
      const auto& i = m.inference_stats();
      one.success = FromProto(i.success());
      one.fail = FromProto(i.fail());
      one.queue = FromProto(i.queue());
      one.compute_input = FromProto(i.compute_input());
      one.compute_infer = FromProto(i.compute_infer());
      one.compute_output = FromProto(i.compute_output());
      total += one;
    }
    return total;
  }

  absl::Status SetInputs(const std::vector<InputTensor>& inputs) override {
    request_.set_model_name(options_.model);
    request_.set_model_version(options_.version);
    for (const InputTensor& t : inputs) {
      auto* in = request_.add_inputs();
      in->set_name(t.name);
      in->set_datatype(t.datatype);
      for (int64_t d : t.shape) in->add_shape(d);
      request_.add_raw_input_contents(t.raw);
    }
    return absl::OkStatus();
  }

  void AsyncInfer(DoneCallback done) override {
    auto* call = new Call;
    const int64_t start = NowNs();
    call->done = std::move(done);
    // request_ is only read from here on; gRPC serializes it per call.
    stub_->async()->ModelInfer(&call->context, &request_, &call->response,
                               [call, start](grpc::Status s) {
                                 Outcome o;
                                 o.start_ns = start;
                                 o.end_ns = NowNs();
                                 if (!s.ok())
                                   o.error = "gRPC " + CodeName(s.error_code());
                                 DoneCallback done = std::move(call->done);
                                 delete call;
                                 done(std::move(o));
                               });
  }

 private:
  TargetOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  inference::ModelInferRequest request_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Transport>> CreateGrpcTransport(
    const TargetOptions& options) {
  return std::unique_ptr<Transport>(std::make_unique<GrpcTransport>(options));
}

}  // namespace serval::perf
