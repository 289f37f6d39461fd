// Fills the gRPC metadata, statistics and repository messages from the
// ServerApi structs, and reads the repository request parameters.
// Stateless.
#ifndef SERVAL_FRONTEND_GRPC_MODEL_MESSAGES_H_
#define SERVAL_FRONTEND_GRPC_MODEL_MESSAGES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "proto/inference.pb.h"
#include "server/server_api.h"

namespace serval {

void FillModelMetadata(const ModelMetadata& metadata,
                       inference::ModelMetadataResponse* response);
void FillModelStatistics(const std::vector<ModelStatistics>& stats,
                         inference::ModelStatisticsResponse* response);
void FillRepositoryIndex(const std::vector<RepositoryEntry>& entries,
                         inference::RepositoryIndexResponse* response);

// "config" (string) -> config_json; "file:<version>/<path>" (bytes) ->
// files["<version>/<path>"]. Other keys, or a wrong value type for these,
// are INVALID_ARGUMENT.
absl::StatusOr<LoadOptions> ReadLoadOptions(
    const inference::RepositoryModelLoadRequest& request);

// "unload_dependents" (bool); default false.
absl::StatusOr<bool> ReadUnloadDependents(
    const inference::RepositoryModelUnloadRequest& request);

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_MODEL_MESSAGES_H_
