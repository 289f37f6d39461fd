#include "backend/backend_registry.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace serval {

BackendRegistry::BackendRegistry(std::string backend_directory)
    : directory_(std::move(backend_directory)) {}

absl::StatusOr<std::shared_ptr<BackendLibrary>> BackendRegistry::Get(
    std::string_view name) {
  absl::MutexLock lock(&mu_);
  auto it = loaded_.find(name);
  if (it != loaded_.end()) return it->second;
  namespace fs = std::filesystem;
  const std::string file = absl::StrCat("libserval_", ToAbsl(name), ".so");
  const fs::path candidates[] = {
      fs::path(directory_) / std::string(name) / file,
      fs::path(directory_) / file};
  std::error_code ec;
  for (const auto& path : candidates) {
    if (!fs::exists(path, ec)) continue;
    ASSIGN_OR_RETURN(auto lib, BackendLibrary::Open(path.string()));
    loaded_.emplace(std::string(name), lib);
    return lib;
  }
  return absl::NotFoundError(
      absl::StrCat("backend '", ToAbsl(name), "' is not installed: looked for ",
                   candidates[0].string(), " and ", candidates[1].string(),
                   " (set --backend-directory)"));
}

}  // namespace serval
