#include "frontend/grpc/infer_reactor.h"

#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "frontend/grpc/grpc_status.h"
#include "frontend/grpc/infer_codec.h"

namespace serval {
namespace {

using inference::ModelInferRequest;
using inference::ModelInferResponse;

class InferCall final
    : public grpc::MessageHolder<ModelInferRequest, ModelInferResponse>,
      public grpc::ServerUnaryReactor,
      public InferCompletion {
 public:
  InferCall() {
    set_request(&request_);
    set_response(&response_);
  }

  // The reactor's share of the object; the holder has its own from the
  // start (gRPC releases a holder even when it never calls the method).
  void StartCall(ServerApi* server, grpc::CallbackServerContext* context) {
    refs_.fetch_add(1);
    absl::Status submitted = SubmitInfer(server, request_, context->deadline(),
                                         &cancellation_, this);
    if (!submitted.ok()) Finish(ToGrpcStatus(submitted, request_.id()));
  }

  // MessageHolder: gRPC no longer needs the messages.
  void Release() override { Unref(); }
  void OnCancel() override { cancellation_.Cancel(); }
  void OnDone() override { Unref(); }

  void OnInferComplete(InferenceResponse result) override {
    if (!result.status.ok()) {
      const std::string& id = result.id.empty() ? request_.id() : result.id;
      Finish(ToGrpcStatus(result.status, id));
      return;
    }
    EncodeInferResponse(result, &response_);
    Finish(grpc::Status::OK);
  }

 private:
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  std::atomic<int> refs_{1};
  ModelInferRequest request_;
  ModelInferResponse response_;
  CancellationFlag cancellation_;
};

}  // namespace

grpc::MessageHolder<ModelInferRequest, ModelInferResponse>*
InferMessageAllocator::AllocateMessages() {
  return new InferCall();
}

grpc::ServerUnaryReactor* StartModelInfer(ServerApi* server,
                                          grpc::CallbackServerContext* context,
                                          const ModelInferRequest* request,
                                          ModelInferResponse* response) {
  auto* call = static_cast<InferCall*>(
      static_cast<grpc::MessageHolder<ModelInferRequest, ModelInferResponse>*>(
          context->GetRpcAllocatorState()));
  call->StartCall(server, context);
  return call;
}

absl::Status SubmitInfer(ServerApi* server, const ModelInferRequest& message,
                         std::chrono::system_clock::time_point deadline,
                         const CancellationFlag* cancellation,
                         InferCompletion* done) {
  if (message.model_name().empty()) {
    return absl::InvalidArgumentError("model_name is required");
  }
  ASSIGN_OR_RETURN(
      int64_t version, ParseModelVersion(message.model_version()),
      Annotate(_, absl::StrCat("model '", message.model_name(), "'")));
  ASSIGN_OR_RETURN(ModelRef model,
                   server->Resolve(message.model_name(), version));
  // Refused before any tensor is looked at.
  RETURN_IF_ERROR(server->CheckAdmission(model));
  ASSIGN_OR_RETURN(InferenceRequest request,
                   DecodeInferRequest(message, deadline, server));
  request.cancellation = cancellation;
  server->Infer(model, std::move(request), done);
  return absl::OkStatus();
}

}  // namespace serval
