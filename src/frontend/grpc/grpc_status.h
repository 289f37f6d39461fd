// absl::Status -> grpc::Status through the shared code table
// (common/status_map.h).
#ifndef SERVAL_FRONTEND_GRPC_GRPC_STATUS_H_
#define SERVAL_FRONTEND_GRPC_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace serval {

// `id` (may be empty) is appended to the message as ErrorText does.
grpc::Status ToGrpcStatus(const absl::Status& status,
                          const std::string& id = "");

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_GRPC_STATUS_H_
