// A backend plugin loaded with dlopen: checks the entry point and the ABI
// version, then exposes the plugin's function table. Shared by every model
// that uses the plugin (shared_ptr keeps the library mapped while any model
// or instance lives). Thread-safe after Open.
#ifndef SERVAL_BACKEND_BACKEND_LIBRARY_H_
#define SERVAL_BACKEND_BACKEND_LIBRARY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "serval/backend.h"

namespace serval {

class BackendLibrary {
 public:
  // Fails with a message naming the path when the file is missing, is not a
  // loadable library, lacks the entry point, or was built for another ABI
  // major version (both versions named).
  static absl::StatusOr<std::shared_ptr<BackendLibrary>> Open(
      const std::string& path);
  ~BackendLibrary();
  BackendLibrary(const BackendLibrary&) = delete;
  BackendLibrary& operator=(const BackendLibrary&) = delete;

  const ServalBackendApi& api() const { return *api_; }
  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }

 private:
  BackendLibrary(void* handle, const ServalBackendApi* api, std::string path);

  void* handle_;
  const ServalBackendApi* api_;
  std::string path_;
  std::string name_;
};

// The host's function table handed to every plugin (process lifetime).
const ServalHostApi* HostApi();

// Converts an error returned by a plugin (taking ownership) to a Status;
// nullptr is OK.
absl::Status TakeError(ServalError* error);

}  // namespace serval

#endif  // SERVAL_BACKEND_BACKEND_LIBRARY_H_
