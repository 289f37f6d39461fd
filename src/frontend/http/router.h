// Maps a method and URL path onto one REST endpoint of the KServe v2
// protocol and its Triton extensions. Pure function; thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_ROUTER_H_
#define SERVAL_FRONTEND_HTTP_ROUTER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace serval::http {

enum class Endpoint {
  kHealthLive,
  kHealthReady,
  kServerMetadata,
  kModelMetadata,
  kModelReady,
  kModelConfig,
  kModelStats,  // model empty = every model
  kInfer,
  kRepositoryIndex,
  kRepositoryLoad,
  kRepositoryUnload,
  kLogging,        // GET: current settings
  kLoggingUpdate,  // POST: change them (chosen by the handler from kLogging)
  // System and CUDA shared memory: region empty = every region (status,
  // unregister).
  kSystemShmStatus,
  kSystemShmRegister,
  kSystemShmUnregister,
  kCudaShmStatus,
  kCudaShmRegister,
  kCudaShmUnregister,
  // Trace settings, global (model empty) or of one model; POST changes them
  // (chosen by the handler from kTraceSetting).
  kTraceSetting,
  kTraceSettingUpdate,
};

struct Route {
  Endpoint endpoint = Endpoint::kHealthLive;
  // The one method the endpoint answers ("GET" or "POST"); the caller
  // answers 405 for any other.
  std::string_view method = "GET";
  std::string model;     // percent-decoded
  std::string region;    // shared-memory region, percent-decoded
  int64_t version = -1;  // -1 = not given (latest / all)
};

// `target` is the request target; a query string is ignored. NOT_FOUND for
// an unknown path; INVALID_ARGUMENT for a version that is not a
// non-negative integer or a malformed %-escape.
absl::StatusOr<Route> ParseRoute(std::string_view target);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_ROUTER_H_
