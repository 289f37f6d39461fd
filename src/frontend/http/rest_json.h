// JSON bodies of the non-infer REST endpoints (server and model metadata,
// statistics in Triton's shape, repository index, model config) and of
// their request bodies. Stateless; thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_REST_JSON_H_
#define SERVAL_FRONTEND_HTTP_REST_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"
#include "server/server_api.h"

namespace serval::http {

std::string ServerMetadataJson(const ServerMetadata& metadata);
std::string ModelMetadataJson(const ModelMetadata& metadata);
// {"model_stats": [...]} with Triton's field names.
std::string ModelStatisticsJson(const std::vector<ModelStatistics>& stats);
std::string RepositoryIndexJson(const std::vector<RepositoryEntry>& entries);
// The config as protobuf JSON with the .proto field names.
absl::StatusOr<std::string> ModelConfigJson(const inference::ModelConfig& c);

// `{"error": message}`.
std::string ErrorJson(std::string_view message, std::string_view id = {});

// GET/POST /v2/logging bodies.
std::string LogSettingsJson(const LogSettings& settings);
absl::StatusOr<LogSettingsUpdate> ParseLogSettingsUpdate(std::string_view body);

// System shared memory: the status array ({"name","key","offset",
// "byte_size"} per region) and the register body ({"key", "offset"?,
// "byte_size"}).
std::string SharedMemoryStatusJson(
    const std::vector<SharedMemoryRegionStatus>& regions);
struct SharedMemoryRegistration {
  std::string key;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};
absl::StatusOr<SharedMemoryRegistration> ParseSharedMemoryRegister(
    std::string_view body);

// Trace settings in Triton's form: every value a string except trace_level,
// an array; in an update, null clears a setting.
std::string TraceSettingsJson(const TraceSettings& settings);
absl::StatusOr<std::vector<TraceSettingUpdate>> ParseTraceSettingsUpdate(
    std::string_view body);

// Body of POST /v2/repository/index: empty or {"ready": bool}.
absl::StatusOr<bool> ParseIndexReadyOnly(std::string_view body);
// Body of .../load: optional parameters "config" (JSON text) and
// "file:<path>" (base64 bytes).
absl::StatusOr<LoadOptions> ParseLoadOptions(std::string_view body);
// Body of .../unload: optional parameters.unload_dependents.
absl::StatusOr<bool> ParseUnloadDependents(std::string_view body);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_REST_JSON_H_
