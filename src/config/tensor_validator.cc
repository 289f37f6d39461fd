#include "config/tensor_validator.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>

#include "google/protobuf/repeated_field.h"

namespace serval {
namespace {

using Dims = google::protobuf::RepeatedField<int64_t>;

std::string DimsToString(const Dims& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

// Element count of fully known dims; nullopt when a -1 (or a bad dim, which
// CheckDims reports) makes it unknown, or on overflow.
std::optional<int64_t> FixedElementCount(const Dims& dims) {
  int64_t count = 1;
  for (int64_t dim : dims) {
    if (dim < 1) return std::nullopt;
    if (count > std::numeric_limits<int64_t>::max() / dim) return std::nullopt;
    count *= dim;
  }
  return count;
}

// "input 'x' (input[0].dims)": the name for people, the path for tools.
class FieldLabel {
 public:
  FieldLabel(std::string kind, std::string path, std::string name)
      : kind_(std::move(kind)),
        path_(std::move(path)),
        name_(std::move(name)) {}

  std::string operator()(std::string_view suffix) const {
    const absl::string_view tail(suffix.data(), suffix.size());
    if (name_.empty()) return absl::StrCat(path_, tail);
    return absl::StrCat(kind_, " '", name_, "' (", path_, tail, ")");
  }

 private:
  std::string kind_;
  std::string path_;
  std::string name_;
};

// Reports every dim that is neither a positive size nor -1.
void CheckDims(const FieldLabel& field, std::string_view name, const Dims& dims,
               ValidationProblems* problems) {
  for (int i = 0; i < dims.size(); ++i) {
    if (dims[i] >= 1 || dims[i] == -1) continue;
    problems->Add(
        field(absl::StrCat(absl::string_view(name.data(), name.size()), "[", i,
                           "]")),
        absl::StrCat("is ", dims[i],
                     "; expected a size >= 1, or -1 for any size"));
  }
  // Element counts are computed in int64 everywhere: a product that
  // overflows it (or that no memory could hold) is refused here.
  constexpr int64_t kMaxElements = int64_t{1} << 40;
  int64_t count = 1;
  for (int64_t dim : dims) {
    if (dim < 1) continue;
    if (count > kMaxElements / dim) {
      problems->Add(field(std::string(name)),
                    absl::StrCat("has more than 2^40 elements; expected a "
                                 "tensor that fits in memory"));
      return;
    }
    count *= dim;
  }
}

template <typename Tensor>
void ValidateTensor(const FieldLabel& field, const Tensor& tensor,
                    ValidationProblems* problems) {
  if (tensor.data_type() == inference::TYPE_INVALID ||
      !inference::DataType_IsValid(tensor.data_type())) {
    problems->Add(field(".data_type"),
                  "is not set; expected a type such as TYPE_FP32");
  }
  if (tensor.dims().empty()) {
    problems->Add(field(".dims"),
                  "is empty; expected at least one dim (use dims: [ 1 ] "
                  "with reshape: { shape: [ ] } for a scalar)");
  }
  CheckDims(field, ".dims", tensor.dims(), problems);
  if (!tensor.has_reshape()) return;
  // An empty reshape is allowed: it makes a one-element tensor a scalar.
  CheckDims(field, ".reshape.shape", tensor.reshape().shape(), problems);
  const std::optional<int64_t> declared = FixedElementCount(tensor.dims());
  const std::optional<int64_t> reshaped =
      FixedElementCount(tensor.reshape().shape());
  if (declared.has_value() && reshaped.has_value() && *declared != *reshaped) {
    problems->Add(
        field(".reshape.shape"),
        absl::StrCat(DimsToString(tensor.reshape().shape()), " has ", *reshaped,
                     " elements but dims ", DimsToString(tensor.dims()),
                     " has ", *declared, "; expected the same element count"));
  }
}

template <typename Tensor>
void ValidateTensorList(
    const std::string& field,
    const google::protobuf::RepeatedPtrField<Tensor>& tensors,
    ValidationProblems* problems) {
  if (tensors.empty()) {
    problems->Add(field,
                  "has no entries; expected at least one (declare it in "
                  "config.pbtxt or use a backend that auto-completes it)");
    return;
  }
  std::set<std::string> seen;
  for (int i = 0; i < tensors.size(); ++i) {
    const Tensor& tensor = tensors[i];
    const std::string path = absl::StrCat(field, "[", i, "]");
    if (tensor.name().empty()) {
      problems->Add(path + ".name", "is empty; expected a tensor name");
    } else if (!seen.insert(tensor.name()).second) {
      problems->Add(path + ".name",
                    absl::StrCat("'", tensor.name(),
                                 "' is declared more than once; expected "
                                 "unique ",
                                 field, " names"));
    }
    ValidateTensor(FieldLabel(field, path, tensor.name()), tensor, problems);
  }
}

}  // namespace

void ValidateTensors(const inference::ModelConfig& config,
                     ValidationProblems* problems) {
  ValidateTensorList("input", config.input(), problems);
  ValidateTensorList("output", config.output(), problems);
}

}  // namespace serval
