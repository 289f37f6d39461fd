// The unary ModelInfer call, and what it shares with the streaming one:
// Submit (resolve, admit, decode, queue). One object per call is at once
// the holder of the call's messages (allocated by InferMessageAllocator),
// the call's reactor and the request's completion, so the request can point
// into the request message until it is answered, with one allocation per
// call.
#ifndef SERVAL_FRONTEND_GRPC_INFER_REACTOR_H_
#define SERVAL_FRONTEND_GRPC_INFER_REACTOR_H_

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/message_allocator.h"
#include "proto/inference.pb.h"
#include "server/server_api.h"

namespace serval {

// Allocates each ModelInfer call's messages inside its call object.
// Thread-safe; stateless.
class InferMessageAllocator
    : public grpc::MessageAllocator<inference::ModelInferRequest,
                                    inference::ModelInferResponse> {
 public:
  grpc::MessageHolder<inference::ModelInferRequest,
                      inference::ModelInferResponse>*
  AllocateMessages() override;
};

// Handles one ModelInfer call: decodes on the calling gRPC thread, hands
// the request to `server` and finishes the call when it is answered. Client
// cancellation (and deadline expiry) cancel the request. The returned
// reactor frees itself when the call ends. `context` must come from a
// service whose ModelInfer messages are allocated by InferMessageAllocator.
grpc::ServerUnaryReactor* StartModelInfer(
    ServerApi* server, grpc::CallbackServerContext* context,
    const inference::ModelInferRequest* request,
    inference::ModelInferResponse* response);

// Resolves the model of `message`, refuses early under overload, decodes
// the message (views into it: it must outlive the request) and queues it
// with `done` as its completion. A non-OK return means nothing was queued
// and `done` will not be called.
absl::Status SubmitInfer(ServerApi* server,
                         const inference::ModelInferRequest& message,
                         std::chrono::system_clock::time_point deadline,
                         const CancellationFlag* cancellation,
                         InferCompletion* done);

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_INFER_REACTOR_H_
