#include "config/backend_resolution.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace serval {
namespace {

// Backends that Triton also knows by a platform name, with their defaults.
struct KnownBackend {
  std::string_view backend;
  std::string_view platform;
  std::string_view plugin;
  std::string_view default_file;
};

constexpr std::array<KnownBackend, 4> kKnownBackends = {{
    {"onnxruntime", "onnxruntime_onnx", "onnxruntime", "model.onnx"},
    {"pytorch", "pytorch_libtorch", "torch", "model.pt"},
    {"identity", "", "identity", ""},
    {"python", "", "python", "model.py"},
}};

const KnownBackend* FindByBackend(std::string_view backend) {
  for (const auto& known : kKnownBackends) {
    if (known.backend == backend) return &known;
  }
  return nullptr;
}

const KnownBackend* FindByPlatform(std::string_view platform) {
  for (const auto& known : kKnownBackends) {
    if (!known.platform.empty() && known.platform == platform) return &known;
  }
  return nullptr;
}

bool IsPlainName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string ModelLabel(const inference::ModelConfig& config) {
  return config.name().empty() ? std::string("model")
                               : absl::StrCat("model '", config.name(), "'");
}

}  // namespace

bool IsPlainFileName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\\\0", 3)) ==
             std::string_view::npos;
}

bool IsEnsemble(const inference::ModelConfig& config) {
  return config.platform() == "ensemble";
}

absl::StatusOr<BackendChoice> ResolveBackend(
    const inference::ModelConfig& config) {
  const std::string& backend = config.backend();
  const std::string& platform = config.platform();
  if (IsEnsemble(config)) {
    if (!backend.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          ModelLabel(config), ": platform 'ensemble' and backend '", backend,
          "' disagree; an ensemble runs its steps' models and names no "
          "backend"));
    }
    BackendChoice choice;
    choice.platform = platform;
    return choice;
  }
  if (backend.empty() && platform.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ModelLabel(config),
        ": neither 'backend' nor 'platform' is set; expected e.g. backend: "
        "\"onnxruntime\", \"pytorch\" or \"identity\""));
  }

  const KnownBackend* by_platform = nullptr;
  if (!platform.empty()) {
    by_platform = FindByPlatform(platform);
    if (by_platform == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          ModelLabel(config), ": platform '", platform, "'",
          backend.empty() ? "" : absl::StrCat(" (backend '", backend, "')"),
          " is not supported by serval; supported platforms are "
          "'onnxruntime_onnx', 'pytorch_libtorch' and 'ensemble'"));
    }
    if (!backend.empty() && backend != by_platform->backend) {
      return absl::InvalidArgumentError(absl::StrCat(
          ModelLabel(config), ": platform '", platform, "' and backend '",
          backend, "' disagree; platform '", platform, "' means backend '",
          ToAbsl(by_platform->backend), "'"));
    }
  }

  const KnownBackend* known =
      by_platform != nullptr ? by_platform : FindByBackend(backend);
  BackendChoice choice;
  if (known != nullptr) {
    choice.plugin = std::string(known->plugin);
    choice.backend = std::string(known->backend);
    choice.platform = !platform.empty()          ? platform
                      : !known->platform.empty() ? std::string(known->platform)
                                                 : choice.backend;
    choice.model_filename = std::string(known->default_file);
  } else {
    // The name becomes part of a library file name: keep it to a plain word.
    if (!IsPlainName(backend)) {
      return absl::InvalidArgumentError(absl::StrCat(
          ModelLabel(config), ": backend '", backend,
          "' is not a valid backend name; expected letters, digits, '_' or "
          "'-'"));
    }
    choice.plugin = backend;
    choice.backend = backend;
    choice.platform = backend;
  }
  if (!config.default_model_filename().empty()) {
    // Checked here, before any file is looked for with it.
    if (!IsPlainFileName(config.default_model_filename())) {
      return absl::InvalidArgumentError(absl::StrCat(
          ModelLabel(config),
          ": default_model_filename must be a file name inside the version "
          "directory, without '/' and not '.' or '..'"));
    }
    choice.model_filename = config.default_model_filename();
  }
  return choice;
}

std::optional<std::string> BackendForModelFile(std::string_view filename) {
  for (const auto& known : kKnownBackends) {
    if (!known.default_file.empty() && known.default_file == filename) {
      return std::string(known.backend);
    }
  }
  return std::nullopt;
}

}  // namespace serval
