#include "frontend/grpc/infer_codec.h"

#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "frontend/grpc/contents_codec.h"
#include "tensor/shape.h"

namespace serval {
namespace {

using inference::InferParameter;
using inference::ModelInferRequest;

absl::StatusOr<uint64_t> NonNegativeInteger(const std::string& model,
                                            const std::string& key,
                                            const InferParameter& p) {
  switch (p.parameter_choice_case()) {
    case InferParameter::kInt64Param:
      if (p.int64_param() >= 0) return static_cast<uint64_t>(p.int64_param());
      return absl::InvalidArgumentError(
          absl::StrCat("model '", model, "': parameter '", key,
                       "' must not be negative, got ", p.int64_param()));
    case InferParameter::kUint64Param:
      return p.uint64_param();
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("model '", model, "': parameter '", key,
                       "' must be an int64_param or uint64_param"));
  }
}

absl::Status DecodeParameters(const ModelInferRequest& message,
                              InferenceRequest* request) {
  const std::string& model = message.model_name();
  for (const auto& [key, value] : message.parameters()) {
    if (key == "priority") {
      absl::StatusOr<uint64_t> v = NonNegativeInteger(model, key, value);
      if (!v.ok()) return v.status();
      if (*v > std::numeric_limits<uint32_t>::max()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model '", model, "': parameter 'priority' is too large: ", *v));
      }
      request->priority = static_cast<uint32_t>(*v);
    } else if (key == "timeout") {
      absl::StatusOr<uint64_t> v = NonNegativeInteger(model, key, value);
      if (!v.ok()) return v.status();
      request->timeout_us = *v;
    }
    // Other parameters (binary_data_output, sequence ids, ...) carry no
    // meaning for serval and are ignored, as Triton ignores unknown ones.
  }
  return absl::OkStatus();
}

absl::Status ApplyDeadline(std::chrono::system_clock::time_point deadline,
                           const std::string& model,
                           InferenceRequest* request) {
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::OkStatus();
  }
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::system_clock::now());
  if (left.count() <= 0) {
    return absl::DeadlineExceededError(absl::StrCat(
        "model '", model, "': the call's deadline passed before inference"));
  }
  const uint64_t left_us = static_cast<uint64_t>(left.count());
  if (request->timeout_us == 0 || request->timeout_us > left_us) {
    request->timeout_us = left_us;
  }
  return absl::OkStatus();
}

// Decodes input `i`: a view into the message's raw contents, or into a
// buffer added to `packed` for typed contents.
absl::StatusOr<TensorView> DecodeInput(const ModelInferRequest& message, int i,
                                       std::vector<TensorBuffer>* packed_data) {
  const std::string& model = message.model_name();
  const ModelInferRequest::InferInputTensor& in = message.inputs(i);
  if (in.name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", model, "': input ", i, " has no name"));
  }
  // Formatted only on failure.
  const auto what = [&] {
    return absl::StrCat("model '", model, "' input '", in.name(), "'");
  };
  std::optional<DataType> type = DataTypeFromApiName(in.datatype());
  if (!type.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what(), ": unknown datatype '", in.datatype(), "'"));
  }
  TensorView view;
  view.name = in.name();
  view.datatype = *type;
  view.shape.assign(in.shape().begin(), in.shape().end());
  absl::StatusOr<int64_t> count = ElementCount(view.shape);
  if (!count.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what(), ": invalid shape ", ShapeToString(view.shape),
                     ": ", count.status().message()));
  }
  const bool typed = HasTypedContents(in.contents());
  if (message.raw_input_contents_size() > 0) {
    if (typed) {
      // Triton's text, which clients match.
      return absl::InvalidArgumentError(
          absl::StrCat("contents field must not be specified when using "
                       "raw_input_contents for '",
                       in.name(), "' for model '", model,
                       "' (send every input in raw_input_contents, or none)"));
    }
    const std::string& raw = message.raw_input_contents(i);
    RETURN_IF_ERROR(CheckTensorBytes(*type, view.shape, raw),
                    Annotate(_, what()));
    view.data = raw.data();
    view.byte_size = raw.size();
    return view;
  }
  if (!typed && *count == 0) return view;  // an empty tensor needs no data
  if (!typed) {
    return absl::InvalidArgumentError(absl::StrCat(
        what(), ": no data; expected ", *count, " ", ToAbsl(ApiName(*type)),
        " values in contents or raw_input_contents"));
  }
  absl::StatusOr<TensorBuffer> packed =
      PackTypedContents(*type, *count, in.contents());
  if (!packed.ok()) return Annotate(packed.status(), what());
  packed_data->push_back(*std::move(packed));
  view.data = packed_data->back().data();
  view.byte_size = packed_data->back().size();
  return view;
}

}  // namespace

absl::StatusOr<int64_t> ParseModelVersion(const std::string& version) {
  if (version.empty()) return -1;
  int64_t v = 0;
  if (!absl::SimpleAtoi(version, &v) || v < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model version must be a non-negative integer, got '", version, "'"));
  }
  return v;
}

absl::StatusOr<InferenceRequest> DecodeInferRequest(
    const ModelInferRequest& message,
    std::chrono::system_clock::time_point deadline) {
  const std::string& model = message.model_name();
  if (model.empty()) {
    return absl::InvalidArgumentError("model_name is required");
  }
  InferenceRequest request;
  request.model_name = model;
  request.id = message.id();
  absl::StatusOr<int64_t> version = ParseModelVersion(message.model_version());
  if (!version.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", model, "': ", version.status().message()));
  }
  request.model_version = *version;
  RETURN_IF_ERROR(DecodeParameters(message, &request));

  const int raw_count = message.raw_input_contents_size();
  if (raw_count > 0 && raw_count != message.inputs_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", model, "': raw_input_contents has ", raw_count,
                     " entries but the request has ", message.inputs_size(),
                     " inputs; send one entry per input, in input order"));
  }
  // Reserved so that views into earlier buffers stay valid.
  request.owned_data.reserve(message.inputs_size());
  request.inputs.reserve(message.inputs_size());
  for (int i = 0; i < message.inputs_size(); ++i) {
    const std::string& name = message.inputs(i).name();
    // A linear scan: requests have few inputs, and it allocates nothing.
    bool repeated = false;
    for (int j = 0; j < i && !repeated; ++j) {
      repeated = message.inputs(j).name() == name;
    }
    if (!name.empty() && repeated) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model '", model, "' input '", name, "': given more than once"));
    }
    absl::StatusOr<TensorView> view =
        DecodeInput(message, i, &request.owned_data);
    if (!view.ok()) return view.status();
    request.inputs.push_back(*std::move(view));
  }
  request.requested_outputs.reserve(message.outputs_size());
  for (const auto& out : message.outputs()) {
    request.requested_outputs.push_back(out.name());
  }
  RETURN_IF_ERROR(ApplyDeadline(deadline, model, &request));
  return request;
}

void EncodeInferResponse(const InferenceResponse& response,
                         inference::ModelInferResponse* message) {
  message->set_model_name(response.model_name);
  if (response.model_version >= 0) {
    message->set_model_version(absl::StrCat(response.model_version));
  }
  message->set_id(response.id);
  for (const OutputTensor& out : response.outputs) {
    auto* tensor = message->add_outputs();
    tensor->set_name(out.name);
    tensor->set_datatype(std::string(ApiName(out.datatype)));
    for (int64_t d : out.shape) tensor->add_shape(d);
    std::string* raw = message->add_raw_output_contents();
    if (out.data.size() > 0) raw->assign(out.data.data(), out.data.size());
  }
}

void EncodeFailedRequest(const ModelInferRequest& request,
                         inference::ModelInferResponse* message) {
  message->set_model_name(request.model_name());
  message->set_model_version(request.model_version());
  message->set_id(request.id());
}

std::string ErrorText(const absl::Status& status, const std::string& id) {
  std::string text(status.message());
  if (!id.empty() && text.find(id) == std::string::npos) {
    absl::StrAppend(&text, " (request id '", id, "')");
  }
  return text;
}

}  // namespace serval
