#include "frontend/grpc/infer_reactor.h"

#include <memory>
#include <utility>

#include "frontend/grpc/grpc_status.h"
#include "frontend/grpc/infer_codec.h"

namespace serval {
namespace {

using inference::ModelInferRequest;
using inference::ModelInferResponse;

struct InferMessages {
  ModelInferRequest request;
  ModelInferResponse response;
};

class InferMessageHolder
    : public grpc::MessageHolder<ModelInferRequest, ModelInferResponse> {
 public:
  InferMessageHolder() : messages_(std::make_shared<InferMessages>()) {
    set_request(&messages_->request);
    set_response(&messages_->response);
  }
  void Release() override { delete this; }
  const std::shared_ptr<InferMessages>& messages() const { return messages_; }

 private:
  std::shared_ptr<InferMessages> messages_;
};

class InferReactor : public grpc::ServerUnaryReactor {
 public:
  explicit InferReactor(std::shared_ptr<CancellationFlag> cancellation)
      : cancellation_(std::move(cancellation)) {}

  void OnCancel() override { cancellation_->Cancel(); }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<CancellationFlag> cancellation_;
};

}  // namespace

grpc::MessageHolder<ModelInferRequest, ModelInferResponse>*
InferMessageAllocator::AllocateMessages() {
  return new InferMessageHolder();
}

grpc::ServerUnaryReactor* StartModelInfer(ServerApi* server,
                                          grpc::CallbackServerContext* context,
                                          const ModelInferRequest* request,
                                          ModelInferResponse* response) {
  auto cancellation = std::make_shared<CancellationFlag>();
  auto* reactor = new InferReactor(cancellation);
  auto* holder =
      static_cast<InferMessageHolder*>(context->GetRpcAllocatorState());
  absl::StatusOr<InferenceRequest> decoded =
      DecodeInferRequest(*request, holder->messages(), context->deadline());
  if (!decoded.ok()) {
    reactor->Finish(ToGrpcStatus(decoded.status(), request->id()));
    return reactor;
  }
  decoded->cancellation = std::move(cancellation);
  // The reactor, and with it `response`, stays alive until Finish: the
  // callback below is the only place that finishes an accepted call.
  server->Infer(*std::move(decoded), [reactor, request,
                                      response](InferenceResponse result) {
    if (!result.status.ok()) {
      const std::string& id = result.id.empty() ? request->id() : result.id;
      reactor->Finish(ToGrpcStatus(result.status, id));
      return;
    }
    EncodeInferResponse(result, response);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace serval
