#include "frontend/grpc/grpc_status.h"

#include "common/status_map.h"
#include "frontend/grpc/infer_codec.h"

namespace serval {

grpc::Status ToGrpcStatus(const absl::Status& status, const std::string& id) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(GrpcCodeFor(status.code())),
                      ErrorText(status, id));
}

}  // namespace serval
