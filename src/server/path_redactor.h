// Keeps server file-system paths out of what clients see: replaces each
// configured directory (the model repositories, the backend and upload
// directories, the system temporary directory) in a message with a
// placeholder naming what it is. The log keeps the full paths; error bodies
// and the repository index get the redacted text. Immutable; thread-safe.
#ifndef SERVAL_SERVER_PATH_REDACTOR_H_
#define SERVAL_SERVER_PATH_REDACTOR_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace serval {

class PathRedactor {
 public:
  // (directory, placeholder) pairs; longer directories are replaced first,
  // so a directory inside another keeps its own placeholder.
  explicit PathRedactor(
      std::vector<std::pair<std::string, std::string>> directories);

  std::string Redact(std::string_view text) const;
  absl::Status Redact(const absl::Status& status) const;

 private:
  std::vector<std::pair<std::string, std::string>> directories_;
};

}  // namespace serval

#endif  // SERVAL_SERVER_PATH_REDACTOR_H_
