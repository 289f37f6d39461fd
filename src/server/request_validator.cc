#include "server/request_validator.h"

#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace serval {
namespace {

std::string Names(const std::vector<TensorSpec>& specs) {
  return absl::StrJoin(specs, ", ", [](std::string* out, const TensorSpec& s) {
    out->append(s.name);
  });
}

absl::Status Invalid(std::string_view model, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("model '", ToAbsl(model), "': ", ToAbsl(what)));
}

absl::Status CheckInput(std::string_view model, const ModelSpec& io, size_t i,
                        const TensorView& in) {
  const TensorSpec& spec = io.inputs[i];
  // Formatted only on failure: the success path builds no strings.
  const auto prefix = [&spec] {
    return absl::StrCat("input '", spec.name, "'");
  };
  if (in.datatype != spec.datatype) {
    return Invalid(model, absl::StrCat(prefix(), " expects datatype ",
                                       ToAbsl(ApiName(spec.datatype)), ", got ",
                                       ToAbsl(ApiName(in.datatype))));
  }
  // The declared dims after the batch dim, compared without building the
  // full shape.
  const std::span<const int64_t> given(in.shape);
  const size_t skip = io.batching() ? 1 : 0;
  if (given.size() != spec.dims.size() + skip ||
      !ShapeMatches(spec.dims, given.subspan(skip))) {
    return Invalid(model,
                   absl::StrCat(prefix(), " expects shape ",
                                ShapeToString(io.FullInputShape(i)),
                                io.batching() ? " (batch dimension first)" : "",
                                ", got ", ShapeToString(in.shape)));
  }
  if (io.batching()) {
    const int64_t batch = in.shape[0];
    if (batch < 1) {
      return Invalid(model, absl::StrCat(prefix(), " has batch size ", batch,
                                         "; it must be at least 1"));
    }
    if (batch > io.max_batch_size) {
      return Invalid(model,
                     absl::StrCat(prefix(), " has batch size ", batch,
                                  ", more than the model's max_batch_size ",
                                  io.max_batch_size));
    }
  }
  for (int64_t d : in.shape) {
    if (d < 0) {
      return Invalid(model,
                     absl::StrCat(prefix(), " has a negative dimension in ",
                                  ShapeToString(in.shape)));
    }
  }
  if (spec.datatype == DataType::kBytes) {
    auto want = ElementCount(in.shape);
    if (!want.ok())
      return Invalid(model,
                     absl::StrCat(prefix(), ": ", want.status().message()));
    auto got = CountBytesElements(std::string_view(in.data, in.byte_size));
    if (!got.ok())
      return Invalid(model,
                     absl::StrCat(prefix(), ": ", got.status().message()));
    if (*got != *want) {
      return Invalid(
          model,
          absl::StrCat(prefix(), " holds ", *got, " BYTES elements, shape ",
                       ShapeToString(in.shape), " needs ", *want));
    }
    return absl::OkStatus();
  }
  auto bytes = ByteSize(spec.datatype, in.shape);
  if (!bytes.ok())
    return Invalid(model,
                   absl::StrCat(prefix(), ": ", bytes.status().message()));
  if (static_cast<uint64_t>(*bytes) != in.byte_size) {
    return Invalid(
        model, absl::StrCat(prefix(), " with shape ", ShapeToString(in.shape),
                            " of ", ToAbsl(ApiName(spec.datatype)), " needs ",
                            *bytes, " bytes, got ", in.byte_size));
  }
  if (in.byte_size > 0 && in.data == nullptr) {
    return Invalid(model, absl::StrCat(prefix(), " has no data"));
  }
  return absl::OkStatus();
}

// Triton's text for a request that lacks required inputs ("expected 2
// inputs but got 1 inputs for model 'm'. Got input(s) ['a'], but missing
// required input(s) ['b']. Please provide all required input(s).").
absl::Status MissingInputs(std::string_view model, const ModelSpec& io,
                           const std::vector<TensorView>& given,
                           const absl::InlinedVector<bool, 8>& seen) {
  size_t required = 0;
  for (const TensorSpec& spec : io.inputs) required += spec.optional ? 0 : 1;
  const auto quoted = [](std::string* out, const std::string& name) {
    absl::StrAppend(out, "'", name, "'");
  };
  std::vector<std::string> got, absent;
  for (const TensorView& in : given) got.push_back(in.name);
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i] && !io.inputs[i].optional) absent.push_back(io.inputs[i].name);
  }
  const std::string expected =
      required == io.inputs.size()
          ? absl::StrCat(io.inputs.size(), " inputs")
          : absl::StrCat("number of inputs between ", required, " and ",
                         io.inputs.size());
  return absl::InvalidArgumentError(absl::StrCat(
      "expected ", expected, " but got ", given.size(), " inputs for model '",
      ToAbsl(model), "'. Got input(s) [", absl::StrJoin(got, ",", quoted),
      "], but missing required input(s) [", absl::StrJoin(absent, ",", quoted),
      "]. Please provide all required input(s)."));
}

}  // namespace

absl::StatusOr<int64_t> ValidateRequest(std::string_view model,
                                        const ModelSpec& io,
                                        InferenceRequest& request) {
  std::vector<TensorView>& inputs = request.inputs;
  // Where each given input goes in model order; inline for common models.
  absl::InlinedVector<size_t, 8> target(inputs.size());
  absl::InlinedVector<bool, 8> seen(io.inputs.size(), false);
  for (size_t k = 0; k < inputs.size(); ++k) {
    const TensorView& in = inputs[k];
    auto index = io.InputIndex(in.name);
    if (!index.has_value()) {
      return Invalid(
          model, absl::StrCat("unknown input '", in.name,
                              "'; the model's inputs are: ", Names(io.inputs)));
    }
    if (seen[*index]) {
      return Invalid(model, absl::StrCat("input '", in.name,
                                         "' already exists in request"));
    }
    seen[*index] = true;
    RETURN_IF_ERROR(CheckInput(model, io, *index, in));
    target[k] = *index;
  }
  // Optional inputs may be left out (the backend sees them absent); a
  // missing required one is refused in Triton's words.
  bool missing = false;
  for (size_t i = 0; i < seen.size(); ++i)
    missing |= !seen[i] && !io.inputs[i].optional;
  if (missing) return MissingInputs(model, io, inputs, seen);
  // Put the given inputs in model order (an insertion sort: few inputs).
  for (size_t k = 1; k < inputs.size(); ++k) {
    for (size_t j = k; j > 0 && target[j - 1] > target[j]; --j) {
      std::swap(inputs[j - 1], inputs[j]);
      std::swap(target[j - 1], target[j]);
    }
  }
  int64_t batch_size = 1;
  if (io.batching() && !inputs.empty()) {
    batch_size = inputs[0].shape[0];
    for (size_t i = 1; i < inputs.size(); ++i) {
      if (inputs[i].shape[0] != batch_size) {
        return Invalid(
            model,
            absl::StrCat("inputs disagree on the batch size: '", inputs[0].name,
                         "' has ", batch_size, ", '", io.inputs[i].name,
                         "' has ", inputs[i].shape[0]));
      }
    }
  }
  for (size_t i = 0; i < request.requested_outputs.size(); ++i) {
    const std::string& name = request.requested_outputs[i];
    if (!io.OutputIndex(name).has_value()) {
      return Invalid(model,
                     absl::StrCat("unknown output '", name,
                                  "' requested; the model's outputs are: ",
                                  Names(io.outputs)));
    }
    for (size_t j = 0; j < i; ++j) {
      if (request.requested_outputs[j] == name) {
        return Invalid(model, absl::StrCat("Duplicate output name '", name,
                                           "' is not allowed in a request"));
      }
    }
  }
  return batch_size;
}

}  // namespace serval
