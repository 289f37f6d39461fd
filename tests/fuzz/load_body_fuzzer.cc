// The body of POST /v2/repository/models/<m>/load: its parameters, the
// config override as JSON (completed and validated as a loaded model's
// would be), and uploaded file names and sizes, checked as the server
// checks them before writing anything.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/strings/str_split.h"
#include "frontend/http/rest_json.h"
#include "fuzz_config.h"
#include "lifecycle/model_upload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<serval::LoadOptions> options =
      serval::http::ParseLoadOptions(body);
  if (!options.ok()) return 0;
  if (!options->config_json.empty()) {
    absl::StatusOr<inference::ModelConfig> config = serval::ModelConfigFromJson(
        options->config_json, "the load request's 'config' parameter");
    if (config.ok()) serval::fuzz::FinalizeAndBuild(*std::move(config));
  }
  serval::UploadLimits limits;
  limits.max_total_bytes = 1 << 16;
  limits.max_files = 16;
  if (serval::ValidateUpload(options->files, limits).ok()) {
    // A name that passed stays inside the model directory: relative, no
    // empty, "." or ".." component.
    for (const auto& [name, bytes] : options->files) {
      absl::StatusOr<std::string> valid = serval::ValidateUploadName(name);
      if (!valid.ok() || valid->empty() || (*valid)[0] == '/') __builtin_trap();
      for (absl::string_view part : absl::StrSplit(*valid, '/')) {
        if (part.empty() || part == "." || part == "..") __builtin_trap();
      }
    }
  }
  return 0;
}
