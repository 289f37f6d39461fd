// Finds and opens backend plugins by name in the backend directory
// (<dir>/<name>/libserval_<name>.so, or <dir>/libserval_<name>.so), once
// per name. Thread-safe.
#ifndef SERVAL_BACKEND_BACKEND_REGISTRY_H_
#define SERVAL_BACKEND_BACKEND_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "backend/backend_library.h"

namespace serval {

class BackendRegistry {
 public:
  explicit BackendRegistry(std::string backend_directory);

  absl::StatusOr<std::shared_ptr<BackendLibrary>> Get(std::string_view name);
  const std::string& directory() const { return directory_; }

 private:
  const std::string directory_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<BackendLibrary>, std::less<>> loaded_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace serval

#endif  // SERVAL_BACKEND_BACKEND_REGISTRY_H_
