// Reads config.pbtxt (protobuf text format, Triton field names) into an
// inference::ModelConfig. Parse errors read "<path>:<line>:<col>: <what>".
// Stateless free functions; safe to call from any thread.
#ifndef SERVAL_CONFIG_CONFIG_PARSER_H_
#define SERVAL_CONFIG_CONFIG_PARSER_H_

#include <filesystem>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"

namespace serval {

inline constexpr std::string_view kConfigFileName = "config.pbtxt";

// Parses config text. `path` only labels error messages. Every syntax error
// and unknown field is reported (INVALID_ARGUMENT), not just the first.
absl::StatusOr<inference::ModelConfig> ParseModelConfigText(
    std::string_view text, std::string_view path);

// Reads <model_dir>/config.pbtxt. Returns std::nullopt when the file does
// not exist: such a model is allowed and is completed by its backend.
// An unreadable or malformed file is an error.
absl::StatusOr<std::optional<inference::ModelConfig>> ReadModelConfig(
    const std::filesystem::path& model_dir);

}  // namespace serval

#endif  // SERVAL_CONFIG_CONFIG_PARSER_H_
