// The bidirectional ModelStreamInfer call: any number of requests, each
// answered by one ModelStreamInferResponse in completion order. A request
// that fails yields error_message (with the request's id and model in
// infer_response) and the stream stays open.
#ifndef SERVAL_FRONTEND_GRPC_STREAM_INFER_REACTOR_H_
#define SERVAL_FRONTEND_GRPC_STREAM_INFER_REACTOR_H_

#include "grpcpp/grpcpp.h"
#include "proto/inference.pb.h"
#include "server/server_api.h"

namespace serval {

// Starts serving one stream; the reactor deletes itself when the call ends.
// The call finishes only after every request read from it has completed,
// so `server` must stay alive until the gRPC server has shut down.
grpc::ServerBidiReactor<inference::ModelInferRequest,
                        inference::ModelStreamInferResponse>*
StartModelStreamInfer(ServerApi* server, grpc::CallbackServerContext* context);

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_STREAM_INFER_REACTOR_H_
