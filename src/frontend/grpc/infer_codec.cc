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
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
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

// The request's parameters as a JSON object, the form backends get them in
// (the same as an HTTP request's "parameters").
std::string ParametersJson(const ModelInferRequest& message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [key, value] : message.parameters()) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    switch (value.parameter_choice_case()) {
      case inference::InferParameter::kBoolParam:
        w.Bool(value.bool_param());
        break;
      case inference::InferParameter::kInt64Param:
        w.Int64(value.int64_param());
        break;
      case inference::InferParameter::kUint64Param:
        w.Uint64(value.uint64_param());
        break;
      case inference::InferParameter::kDoubleParam:
        w.Double(value.double_param());
        break;
      case inference::InferParameter::kStringParam:
        w.String(value.string_param().data(),
                 static_cast<rapidjson::SizeType>(value.string_param().size()));
        break;
      default:
        w.Null();
    }
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::Status DecodeParameters(const ModelInferRequest& message,
                              InferenceRequest* request) {
  const std::string& model = message.model_name();
  if (!message.parameters().empty()) {
    request->parameters_json = ParametersJson(message);
  }
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

// The shared-memory parameters of a tensor (Triton's names and texts).
struct SharedMemoryParams {
  std::string region;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};

template <typename Params>
absl::StatusOr<std::optional<SharedMemoryParams>> SharedMemoryOf(
    const Params& params, const std::string& tensor) {
  auto region = params.find("shared_memory_region");
  if (region == params.end()) {
    for (const char* key :
         {"shared_memory_offset", "shared_memory_byte_size"}) {
      if (params.count(key) > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", key,
                         "' can not be specified without "
                         "'shared_memory_region' parameter for tensor '",
                         tensor, "'"));
      }
    }
    return std::optional<SharedMemoryParams>();
  }
  if (region->second.parameter_choice_case() !=
      inference::InferParameter::kStringParam) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid value type for 'shared_memory_region' parameter for tensor '",
        tensor, "', expected string_param."));
  }
  SharedMemoryParams p;
  p.region = region->second.string_param();
  for (const auto& [key, out] :
       {std::pair<const char*, uint64_t*>{"shared_memory_offset", &p.offset},
        {"shared_memory_byte_size", &p.byte_size}}) {
    auto it = params.find(key);
    if (it == params.end()) {
      if (out == &p.byte_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "'shared_memory_byte_size' must be specified along with "
            "'shared_memory_region' parameter for tensor '",
            tensor, "'"));
      }
      continue;
    }
    if (it->second.parameter_choice_case() !=
            inference::InferParameter::kInt64Param ||
        it->second.int64_param() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid value type for '", key, "' parameter for tensor '", tensor,
          "', expected int64_param."));
    }
    *out = static_cast<uint64_t>(it->second.int64_param());
  }
  return std::optional<SharedMemoryParams>(std::move(p));
}

absl::StatusOr<SharedMemoryView> MapRegion(const ServerApi* server,
                                           const SharedMemoryParams& p,
                                           InferenceRequest* request) {
  if (server == nullptr) {
    return absl::InvalidArgumentError(
        "the shared-memory extension is not enabled");
  }
  ASSIGN_OR_RETURN(SharedMemoryView view,
                   server->MapSharedMemory(p.region, p.offset, p.byte_size));
  request->keep_alive.push_back(view.pin);
  return view;
}

// Decodes input `i`: a view into the message's raw contents (`raw` is the
// next unused entry: inputs in shared memory take none), into a mapped
// shared-memory region, or into a buffer the request owns for typed
// contents.
absl::StatusOr<TensorView> DecodeInput(const ModelInferRequest& message, int i,
                                       int* raw, const ServerApi* server,
                                       InferenceRequest* request) {
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
  ASSIGN_OR_RETURN(auto shm, SharedMemoryOf(in.parameters(), in.name()));
  if (shm.has_value()) {
    if (typed) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected 'content' provided when using shared "
                       "memory for input tensor '",
                       in.name(), "' for model '", model, "'"));
    }
    ASSIGN_OR_RETURN(SharedMemoryView region, MapRegion(server, *shm, request),
                     Annotate(_, what()));
    const std::string_view bytes(region.data, region.size);
    RETURN_IF_ERROR(CheckTensorBytes(*type, view.shape, bytes),
                    Annotate(_, what()));
    view.data = region.data;
    view.byte_size = region.size;
    return view;
  }
  if (message.raw_input_contents_size() > 0) {
    if (typed) {
      // Triton's text, which clients match.
      return absl::InvalidArgumentError(
          absl::StrCat("contents field must not be specified when using "
                       "raw_input_contents for '",
                       in.name(), "' for model '", model,
                       "' (send every input in raw_input_contents, or none)"));
    }
    if (*raw >= message.raw_input_contents_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unable to find data for input tensor '", in.name(), "' for model '",
          model, "' in request: raw_input_contents has too few entries"));
    }
    const std::string& bytes = message.raw_input_contents((*raw)++);
    RETURN_IF_ERROR(CheckTensorBytes(*type, view.shape, bytes),
                    Annotate(_, what()));
    view.data = bytes.data();
    view.byte_size = bytes.size();
    return view;
  }
  if (!typed && *count == 0) return view;  // an empty tensor needs no data
  if (!typed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unable to find data for input tensor '", in.name(), "' for model '",
        model, "' in request: expected ", *count, " ", ToAbsl(ApiName(*type)),
        " values in contents or raw_input_contents"));
  }
  absl::StatusOr<TensorBuffer> packed =
      PackTypedContents(*type, *count, in.contents());
  if (!packed.ok()) return Annotate(packed.status(), what());
  request->owned_data.push_back(*std::move(packed));
  view.data = request->owned_data.back().data();
  view.byte_size = request->owned_data.back().size();
  return view;
}

// Requested outputs and their options (classification, shared memory).
absl::Status DecodeOutputs(const ModelInferRequest& message,
                           const ServerApi* server, InferenceRequest* request) {
  request->requested_outputs.reserve(message.outputs_size());
  for (const auto& out : message.outputs()) {
    request->requested_outputs.push_back(out.name());
    if (out.parameters().empty()) continue;
    OutputOptions options;
    options.name = out.name();
    if (auto c = out.parameters().find("classification");
        c != out.parameters().end()) {
      if (c->second.parameter_choice_case() !=
          inference::InferParameter::kInt64Param) {
        return absl::InvalidArgumentError(
            "invalid value type for 'classification' parameter, expected "
            "int64_param");
      }
      if (c->second.int64_param() < 1 || c->second.int64_param() > UINT32_MAX) {
        return absl::InvalidArgumentError(
            "invalid value for 'classification' parameter, expected >= 1");
      }
      options.classification = static_cast<uint32_t>(c->second.int64_param());
    }
    ASSIGN_OR_RETURN(auto shm, SharedMemoryOf(out.parameters(), out.name()));
    if (shm.has_value()) {
      if (options.classification > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("output can't set both 'shared_memory_region' and "
                         "'classification' for tensor '",
                         out.name(), "'"));
      }
      ASSIGN_OR_RETURN(
          SharedMemoryView region, MapRegion(server, *shm, request),
          Annotate(_, absl::StrCat("model '", message.model_name(),
                                   "' output '", out.name(), "'")));
      options.shared_memory = region.data;
      options.shared_memory_size = region.size;
    }
    if (options.classification > 0 || options.shared_memory != nullptr) {
      request->output_options.push_back(std::move(options));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> ParseModelVersion(const std::string& version) {
  if (version.empty()) return -1;
  int64_t v = 0;
  if (!absl::SimpleAtoi(version, &v) || v < 0) {
    // Triton's phrase first: its clients look for it.
    return absl::InvalidArgumentError(absl::StrCat(
        "failed to get model version from specified version string '", version,
        "': a model version is a non-negative integer"));
  }
  return v;
}

absl::StatusOr<InferenceRequest> DecodeInferRequest(
    const ModelInferRequest& message,
    std::chrono::system_clock::time_point deadline, const ServerApi* server) {
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
  if (raw_count > message.inputs_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", model, "': raw_input_contents has ", raw_count,
                     " entries but the request has ", message.inputs_size(),
                     " inputs; send one entry per input, in input order"));
  }
  int raw = 0;
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
    ASSIGN_OR_RETURN(TensorView view,
                     DecodeInput(message, i, &raw, server, &request));
    request.inputs.push_back(std::move(view));
  }
  if (raw != raw_count) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", model, "': raw_input_contents has ", raw_count,
                     " entries but ", raw,
                     " inputs take raw contents; send one entry "
                     "per input not in shared memory, in input order"));
  }
  RETURN_IF_ERROR(DecodeOutputs(message, server, &request));
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
