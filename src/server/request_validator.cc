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

std::string Describe(const ModelSpec& io, const TensorSpec& spec, size_t i) {
  return absl::StrCat(ToAbsl(ApiName(spec.datatype)), " ",
                      ShapeToString(io.FullInputShape(i)));
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
      return Invalid(model,
                     absl::StrCat("input '", in.name, "' is given twice"));
    }
    seen[*index] = true;
    RETURN_IF_ERROR(CheckInput(model, io, *index, in));
    target[k] = *index;
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (seen[i]) continue;
    return Invalid(
        model,
        absl::StrCat(
            io.inputs[i].optional ? "optional input '" : "missing input '",
            io.inputs[i].name, "' (", Describe(io, io.inputs[i], i), ")",
            io.inputs[i].optional
                ? " must be given: omitting optional inputs is "
                  "not supported yet"
                : ""));
  }
  // Every model input is given exactly once: put them in model order.
  for (size_t k = 0; k < inputs.size(); ++k) {
    while (target[k] != k) {
      const size_t to = target[k];
      std::swap(inputs[k], inputs[to]);
      std::swap(target[k], target[to]);
    }
  }
  int64_t batch_size = 1;
  if (io.batching() && !inputs.empty()) {
    batch_size = inputs[0].shape[0];
    for (size_t i = 1; i < inputs.size(); ++i) {
      if (inputs[i].shape[0] != batch_size) {
        return Invalid(
            model,
            absl::StrCat("inputs disagree on the batch size: '",
                         io.inputs[0].name, "' has ", batch_size, ", '",
                         io.inputs[i].name, "' has ", inputs[i].shape[0]));
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
        return Invalid(model,
                       absl::StrCat("output '", name, "' is requested twice"));
      }
    }
  }
  return batch_size;
}

}  // namespace serval
