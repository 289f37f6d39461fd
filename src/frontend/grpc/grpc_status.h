// absl::Status -> grpc::Status through the shared code table
// (common/status_map.h).
#ifndef SERVAL_FRONTEND_GRPC_GRPC_STATUS_H_
#define SERVAL_FRONTEND_GRPC_GRPC_STATUS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace serval {

// The status message travels in a response header (grpc-message), and
// clients refuse headers beyond their metadata limit (8 KiB by default):
// a longer message, one echoing a client's huge input, would hide the
// status behind a client-side error.
inline constexpr size_t kMaxStatusMessageBytes = 4096;

// `text` cut to kMaxStatusMessageBytes at a character boundary, saying how
// long it was.
std::string BoundedStatusMessage(std::string text);

// `id` (may be empty) is appended to the message as ErrorText does; the
// message is bounded.
grpc::Status ToGrpcStatus(const absl::Status& status,
                          const std::string& id = "");

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_GRPC_STATUS_H_
