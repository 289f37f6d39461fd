#include "backend/backend_library.h"

#include <dlfcn.h>

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace serval {

BackendLibrary::BackendLibrary(void* handle, const ServalBackendApi* api,
                               std::string path)
    : handle_(handle), api_(api), path_(std::move(path)) {
  name_ = api_->name ? api_->name : "";
}

BackendLibrary::~BackendLibrary() {
  // Plugins may leave threads or atexit handlers behind (thread pools of
  // the runtimes); unmapping their code under them would crash at exit.
  // The handle is intentionally kept open for the life of the process.
}

absl::StatusOr<std::shared_ptr<BackendLibrary>> BackendLibrary::Open(
    const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(
        absl::StrCat("backend library ", path, " does not exist"));
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot load backend library ", path, ": ", err ? err : "unknown"));
  }
  auto entry = reinterpret_cast<ServalBackendGetApiFn>(
      dlsym(handle, SERVAL_BACKEND_ENTRY_POINT));
  if (entry == nullptr) {
    dlclose(handle);
    return absl::FailedPreconditionError(
        absl::StrCat("backend library ", path, " does not export ",
                     SERVAL_BACKEND_ENTRY_POINT, "; is it a serval backend?"));
  }
  const ServalBackendApi* api = entry(HostApi());
  if (api == nullptr) {
    dlclose(handle);
    return absl::FailedPreconditionError(absl::StrCat(
        "backend library ", path, " refused this host (host ABI ",
        SERVAL_BACKEND_ABI_MAJOR, ".", SERVAL_BACKEND_ABI_MINOR, ")"));
  }
  if (api->abi_major != SERVAL_BACKEND_ABI_MAJOR) {
    const uint32_t major = api->abi_major, minor = api->abi_minor;
    dlclose(handle);
    return absl::FailedPreconditionError(absl::StrCat(
        "backend library ", path, " was built for backend ABI ", major, ".",
        minor, " but this serval speaks ABI ", SERVAL_BACKEND_ABI_MAJOR, ".",
        SERVAL_BACKEND_ABI_MINOR, "; rebuild the backend"));
  }
  // Entries up to `execute` are required in ABI 1.0.
  constexpr size_t kMinSize =
      offsetof(ServalBackendApi, execute) + sizeof(ServalBackendApi::execute);
  if (api->struct_size < kMinSize || api->model_create == nullptr ||
      api->model_destroy == nullptr || api->instance_create == nullptr ||
      api->instance_destroy == nullptr || api->execute == nullptr) {
    dlclose(handle);
    return absl::FailedPreconditionError(absl::StrCat(
        "backend library ", path, " has an incomplete function table"));
  }
  return std::shared_ptr<BackendLibrary>(new BackendLibrary(handle, api, path));
}

}  // namespace serval
