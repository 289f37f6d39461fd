// Which strings may name a model. Model names become directory names, URL
// path segments and metric labels, so anything that could escape the
// repository or corrupt a log line or a JSON document is refused.
#ifndef SERVAL_REPOSITORY_MODEL_NAME_H_
#define SERVAL_REPOSITORY_MODEL_NAME_H_

#include <string_view>

#include "absl/status/status.h"

namespace serval {

// OK when `name` may name a model. INVALID_ARGUMENT, with the reason, when it
// is empty, contains "..", '/' or '\\', starts with '.', is not valid UTF-8,
// or contains a non-printable character (C0/C1 controls, DEL).
absl::Status ValidateModelName(std::string_view name);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_MODEL_NAME_H_
