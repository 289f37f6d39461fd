// ModelConfig <-> JSON in the protobuf JSON mapping with Triton's field
// names ("max_batch_size", not "maxBatchSize"): the form of the HTTP
// `/config` endpoint and of backend auto-complete output. Thread-safe.
#ifndef SERVAL_CONFIG_CONFIG_JSON_H_
#define SERVAL_CONFIG_CONFIG_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"

namespace serval {

// Compact JSON as Triton's HTTP /config shows it: proto field names, enums
// by name, fields at their default value printed too, and 64-bit integers
// (dims, microseconds) as JSON numbers rather than the proto mapping's
// strings. Map keys stay strings.
absl::StatusOr<std::string> ModelConfigToJson(
    const inference::ModelConfig& config);

// Parses JSON (proto or JSON field names accepted). Unknown fields are an
// error (INVALID_ARGUMENT) so that a misspelt field is not silently lost;
// `what` labels the message (e.g. "auto-complete output of backend 'x'").
absl::StatusOr<inference::ModelConfig> ModelConfigFromJson(
    std::string_view json, std::string_view what);

}  // namespace serval

#endif  // SERVAL_CONFIG_CONFIG_JSON_H_
