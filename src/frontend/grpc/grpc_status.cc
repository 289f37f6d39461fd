#include "frontend/grpc/grpc_status.h"

#include "common/status_map.h"
#include "frontend/grpc/infer_codec.h"

namespace serval {

std::string BoundedStatusMessage(std::string text) {
  if (text.size() <= kMaxStatusMessageBytes) return text;
  const size_t total = text.size();
  size_t cut = kMaxStatusMessageBytes - 64;
  // Cut between UTF-8 characters, not inside one.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  text.resize(cut);
  text += "... (" + std::to_string(total) + " bytes in all)";
  return text;
}

grpc::Status ToGrpcStatus(const absl::Status& status, const std::string& id) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(GrpcCodeFor(status.code())),
                      BoundedStatusMessage(ErrorText(status, id)));
}

}  // namespace serval
