// Maps a config's `backend` / `platform` (Triton's names) to the serval
// plugin that runs it, the model file it loads, and the platform string
// reported in model metadata. Pure functions; thread-safe.
#ifndef SERVAL_CONFIG_BACKEND_RESOLUTION_H_
#define SERVAL_CONFIG_BACKEND_RESOLUTION_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"

namespace serval {

struct BackendChoice {
  // Plugin name: the loader opens libserval_<plugin>.so.
  std::string plugin;
  // Triton backend name ("onnxruntime", "pytorch", "identity", user's own).
  std::string backend;
  // Shown as `platform` in model metadata: the config's platform when set,
  // Triton's platform name for the ONNX and PyTorch backends, else the
  // backend name.
  std::string platform;
  // File inside the version directory: default_model_filename when set,
  // else the backend's default ("model.onnx", "model.pt"); empty when the
  // backend needs no file (identity, user plugins without a default).
  std::string model_filename;
};

// Whether the config describes an ensemble (platform "ensemble"): served
// by composing other models, with no plugin and no model file.
bool IsEnsemble(const inference::ModelConfig& config);

// Whether `name` names a file inside a directory and nothing else: not
// empty, no '/', backslash or NUL, not "." or "..". default_model_filename must
// be one, so a config (one sent with a load request too) cannot make the
// server open a file outside the model's version directory.
bool IsPlainFileName(std::string_view name);

// Resolution table:
//   platform "ensemble"                                 -> no plugin
//   backend "onnxruntime" | platform "onnxruntime_onnx" -> plugin onnxruntime
//   backend "pytorch"     | platform "pytorch_libtorch" -> plugin torch
//   backend "identity"                                  -> plugin identity
//   any other backend name                              -> plugin of that name
// Errors (INVALID_ARGUMENT, naming model, backend and platform): neither
// set; an unknown platform; platform and backend that disagree.
absl::StatusOr<BackendChoice> ResolveBackend(
    const inference::ModelConfig& config);

// Triton's auto-detection for a model without backend/platform: the backend
// whose default file name is `filename` ("model.onnx" -> "onnxruntime",
// "model.pt" -> "pytorch"); nullopt otherwise.
std::optional<std::string> BackendForModelFile(std::string_view filename);

}  // namespace serval

#endif  // SERVAL_CONFIG_BACKEND_RESOLUTION_H_
