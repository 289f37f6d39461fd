// Internal to src/config: gathers every problem found while validating one
// model's config, so a user sees all of them at once. Not thread-safe; one
// per validation call.
#ifndef SERVAL_CONFIG_VALIDATION_PROBLEMS_H_
#define SERVAL_CONFIG_VALIDATION_PROBLEMS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace serval {

class ValidationProblems {
 public:
  explicit ValidationProblems(std::string model_name)
      : model_name_(std::move(model_name)) {}

  // `field` names the field by its proto path ("input[0].dims[1]"), maybe
  // with the tensor's name; `what` says what is wrong and what was expected
  // and reads on from the field: "is -2; expected a size >= 1".
  void Add(std::string_view field, std::string_view what) {
    problems_.push_back(
        absl::StrCat(absl::string_view(field.data(), field.size()), " ",
                     absl::string_view(what.data(), what.size())));
  }

  bool empty() const { return problems_.empty(); }

  // INVALID_ARGUMENT: "model 'm': <field> <what>; <field> <what>".
  absl::Status ToStatus() const {
    if (problems_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", model_name_, "': ", absl::StrJoin(problems_, "; ")));
  }

 private:
  std::string model_name_;
  std::vector<std::string> problems_;
};

}  // namespace serval

#endif  // SERVAL_CONFIG_VALIDATION_PROBLEMS_H_
