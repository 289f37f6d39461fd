// The unary ModelInfer call. Request and response messages come from
// InferMessageAllocator so that the request can outlive gRPC's use of it:
// the server core holds input views into it until the request completes.
#ifndef SERVAL_FRONTEND_GRPC_INFER_REACTOR_H_
#define SERVAL_FRONTEND_GRPC_INFER_REACTOR_H_

#include "grpcpp/grpcpp.h"
#include "grpcpp/support/message_allocator.h"
#include "proto/inference.pb.h"
#include "server/server_api.h"

namespace serval {

// Allocates each ModelInfer call's messages in one shared block, referenced
// both by gRPC (until it releases the holder) and by the decoded request's
// payload_owner. Thread-safe; stateless.
class InferMessageAllocator
    : public grpc::MessageAllocator<inference::ModelInferRequest,
                                    inference::ModelInferResponse> {
 public:
  grpc::MessageHolder<inference::ModelInferRequest,
                      inference::ModelInferResponse>*
  AllocateMessages() override;
};

// Handles one ModelInfer call: decodes on the calling gRPC thread, hands
// the request to `server` and finishes the call from the completion
// callback. Client cancellation (and deadline expiry) set the request's
// CancellationFlag. The returned reactor deletes itself when the call ends.
// `context` must come from a service whose ModelInfer messages are
// allocated by InferMessageAllocator.
grpc::ServerUnaryReactor* StartModelInfer(
    ServerApi* server, grpc::CallbackServerContext* context,
    const inference::ModelInferRequest* request,
    inference::ModelInferResponse* response);

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_INFER_REACTOR_H_
