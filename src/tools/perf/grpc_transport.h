// KServe v2 over gRPC for `serval perf` (inference.GRPCInferenceService):
// unary ModelInfer on grpc++'s callback API, so requests in flight cost no
// client threads; inputs travel as raw_input_contents.
#ifndef SERVAL_TOOLS_PERF_GRPC_TRANSPORT_H_
#define SERVAL_TOOLS_PERF_GRPC_TRANSPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "tools/perf/transport.h"

namespace serval::perf {

absl::StatusOr<std::unique_ptr<Transport>> CreateGrpcTransport(
    const TargetOptions& options);

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_GRPC_TRANSPORT_H_
