// Model files uploaded with a load request ("file:<version>/<name>"
// parameters) are written to a private directory that only this process
// uses, never into the model repository. Names are validated first so that
// no upload can escape that directory, and sizes are bounded.
// Free functions; thread-safe.
#ifndef SERVAL_LIFECYCLE_MODEL_UPLOAD_H_
#define SERVAL_LIFECYCLE_MODEL_UPLOAD_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace serval {

struct UploadLimits {
  // Sum of the sizes of all files of one load request.
  uint64_t max_total_bytes = uint64_t{1} << 30;
  uint64_t max_files = 1000;
};

// Checks one upload name, relative to the model directory:
// "<version>/<path...>" (a file of a version) or "<name>" (a file beside
// config.pbtxt, e.g. labels). Refused (INVALID_ARGUMENT): empty names or
// components, ".", "..", absolute paths, backslashes, NUL and control
// characters, a non-numeric first component when there are several, a
// numeric single component (it would be a version directory), and
// config.pbtxt (the configuration comes in the 'config' parameter).
// Returns the normalized relative path.
absl::StatusOr<std::string> ValidateUploadName(std::string_view name);

// Checks every name and the size limits, without writing anything.
absl::Status ValidateUpload(const std::map<std::string, std::string>& files,
                            const UploadLimits& limits);

// A directory removed, with everything in it, when the last owner drops it.
class OwnedDirectory {
 public:
  explicit OwnedDirectory(std::string path) : path_(std::move(path)) {}
  ~OwnedDirectory();
  OwnedDirectory(const OwnedDirectory&) = delete;
  OwnedDirectory& operator=(const OwnedDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
};

// Validates, then writes the files as `<parent>/<model>` (a fresh, unique
// `parent` directory is created under `root`), so that the result can be
// scanned as a one-model repository rooted at `parent`. The returned
// directory is `parent`; on failure nothing is left behind.
absl::StatusOr<std::shared_ptr<OwnedDirectory>> WriteUploadedModel(
    const std::string& root, const std::string& model,
    const std::map<std::string, std::string>& files,
    const UploadLimits& limits);

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_MODEL_UPLOAD_H_
