#include "frontend/http/infer_decoder.h"

#include <simdjson.h>

#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "frontend/http/json_tensor_data.h"
#include "tensor/shape.h"

namespace serval::http {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

absl::Status Invalid(std::string_view model, std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("model '", ToAbsl(model), "': ", ToAbsl(message)));
}

// Reads an optional non-negative integer member.
absl::StatusOr<std::optional<uint64_t>> OptionalUint(object obj,
                                                     std::string_view key) {
  element e;
  if (obj[key].get(e) != simdjson::SUCCESS) return std::optional<uint64_t>();
  if (e.type() == element_type::INT64 && e.get_int64().value_unsafe() >= 0) {
    return std::optional<uint64_t>(
        static_cast<uint64_t>(e.get_int64().value_unsafe()));
  }
  if (e.type() == element_type::UINT64) {
    return std::optional<uint64_t>(e.get_uint64().value_unsafe());
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "parameter '", ToAbsl(key), "' must be a non-negative integer"));
}

absl::StatusOr<std::optional<bool>> OptionalBool(object obj,
                                                 std::string_view key) {
  element e;
  if (obj[key].get(e) != simdjson::SUCCESS) return std::optional<bool>();
  if (e.type() != element_type::BOOL) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", ToAbsl(key), "' must be a boolean"));
  }
  return std::optional<bool>(e.get_bool().value_unsafe());
}

// Returns the optional "parameters" object of `obj`, or an empty optional.
absl::StatusOr<std::optional<object>> Parameters(object obj) {
  element e;
  if (obj["parameters"].get(e) != simdjson::SUCCESS) {
    return std::optional<object>();
  }
  if (e.type() != element_type::OBJECT) {
    return absl::InvalidArgumentError("'parameters' must be a JSON object");
  }
  return std::optional<object>(e.get_object().value_unsafe());
}

absl::StatusOr<Shape> ParseShape(element e) {
  if (e.type() != element_type::ARRAY) {
    return absl::InvalidArgumentError("'shape' must be an array of integers");
  }
  Shape shape;
  const simdjson::dom::array dims = e.get_array().value_unsafe();
  for (element d : dims) {
    if (d.type() != element_type::INT64 || d.get_int64().value_unsafe() < 0) {
      return absl::InvalidArgumentError(
          "'shape' must be an array of non-negative integers");
    }
    shape.push_back(d.get_int64().value_unsafe());
  }
  return shape;
}

// Names a tensor in error messages ("input 'x' of model 'm'"), formatted
// only when an error is reported.
struct TensorName {
  std::string_view kind;  // "input" or "output"
  std::string_view tensor;
  std::string_view model;
  std::string str() const {
    return absl::StrCat(ToAbsl(kind), " '", ToAbsl(tensor), "' of model '",
                        ToAbsl(model), "'");
  }
};

absl::Status TensorError(const TensorName& what, std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(what.str(), ": ", ToAbsl(message)));
}

// State shared while decoding the inputs of one request.
struct DecodeContext {
  std::string_view model;
  std::string_view body;
  size_t json_length;
  size_t binary_offset;  // next unread binary byte
  InferenceRequest* request;
  const ServerApi* shared_memory;  // null: the extension is off
};

absl::Status DecodeBinaryInput(DecodeContext& ctx, uint64_t size,
                               const TensorName& what, TensorView* view) {
  const size_t available = ctx.body.size() - ctx.binary_offset;
  if (size > available) {
    return TensorError(what, absl::StrCat("binary_data_size is ", size,
                                          " but only ", available,
                                          " bytes of binary data remain in "
                                          "the request body"));
  }
  const std::string_view bytes(ctx.body.data() + ctx.binary_offset, size);
  RETURN_IF_ERROR(CheckTensorBytes(view->datatype, view->shape, bytes),
                  Annotate(_, what.str()));
  view->data = bytes.data();
  view->byte_size = size;
  ctx.binary_offset += size;
  return absl::OkStatus();
}

absl::Status DecodeJsonInput(DecodeContext& ctx, element data,
                             const TensorName& what, TensorView* view) {
  ASSIGN_OR_RETURN(int64_t count, ElementCount(view->shape),
                   Annotate(_, what.str()));
  // Every JSON value takes at least one byte, so a shape larger than the
  // JSON text is wrong; checking first avoids allocating for it.
  if (static_cast<uint64_t>(count) > ctx.json_length) {
    return TensorError(what, absl::StrCat("shape ", ShapeToString(view->shape),
                                          " needs ", count,
                                          " elements, more than the JSON "
                                          "request could hold"));
  }
  ASSIGN_OR_RETURN(TensorBuffer buffer,
                   JsonDataToBuffer(data, view->datatype, count),
                   Annotate(_, what.str()));
  view->data = buffer.data();
  view->byte_size = buffer.size();
  ctx.request->owned_data.push_back(std::move(buffer));
  return absl::OkStatus();
}

// The shared-memory parameters of a tensor, when it names a region.
struct SharedMemoryParams {
  std::string_view region;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};

absl::StatusOr<std::optional<SharedMemoryParams>> SharedMemoryOf(
    const std::optional<object>& params, const TensorName& what) {
  if (!params.has_value()) return std::optional<SharedMemoryParams>();
  element region;
  if ((*params)["shared_memory_region"].get(region) != simdjson::SUCCESS) {
    for (const char* key :
         {"shared_memory_offset", "shared_memory_byte_size"}) {
      if ((*params)[key].error() == simdjson::SUCCESS) {
        return TensorError(what, absl::StrCat("'", key,
                                              "' can not be specified without "
                                              "'shared_memory_region'"));
      }
    }
    return std::optional<SharedMemoryParams>();
  }
  SharedMemoryParams p;
  if (region.get(p.region) != simdjson::SUCCESS) {
    return TensorError(what,
                       "Unable to parse 'shared_memory_region': it must "
                       "be a string");
  }
  ASSIGN_OR_RETURN(auto offset, OptionalUint(*params, "shared_memory_offset"),
                   Annotate(_, what.str()));
  ASSIGN_OR_RETURN(auto size, OptionalUint(*params, "shared_memory_byte_size"),
                   Annotate(_, what.str()));
  if (!size.has_value()) {
    return TensorError(what,
                       "'shared_memory_byte_size' must be specified "
                       "along with 'shared_memory_region'");
  }
  p.offset = offset.value_or(0);
  p.byte_size = *size;
  return std::optional<SharedMemoryParams>(p);
}

absl::StatusOr<SharedMemoryView> MapRegion(DecodeContext& ctx,
                                           const SharedMemoryParams& p,
                                           const TensorName& what) {
  if (ctx.shared_memory == nullptr) {
    return TensorError(what, "the shared-memory extension is not enabled");
  }
  ASSIGN_OR_RETURN(
      SharedMemoryView view,
      ctx.shared_memory->MapSharedMemory(p.region, p.offset, p.byte_size),
      Annotate(_, what.str()));
  ctx.request->keep_alive.push_back(view.pin);
  return view;
}

absl::StatusOr<TensorView> DecodeInput(DecodeContext& ctx, element input) {
  if (input.type() != element_type::OBJECT) {
    return Invalid(ctx.model, "each entry of 'inputs' must be an object");
  }
  object obj = input.get_object().value_unsafe();
  TensorView view;
  std::string_view name;
  if (obj["name"].get(name) != simdjson::SUCCESS) {
    return Invalid(ctx.model, "an input has no string 'name'");
  }
  view.name = std::string(name);
  const TensorName what{"input", name, ctx.model};
  std::string_view datatype;
  if (obj["datatype"].get(datatype) != simdjson::SUCCESS) {
    return TensorError(what, "missing string 'datatype'");
  }
  auto type = DataTypeFromApiName(datatype);
  if (!type) {
    return TensorError(
        what, absl::StrCat("unknown datatype '", ToAbsl(datatype), "'"));
  }
  view.datatype = *type;
  element shape;
  if (obj["shape"].get(shape) != simdjson::SUCCESS) {
    return TensorError(what, "missing 'shape'");
  }
  ASSIGN_OR_RETURN(view.shape, ParseShape(shape), Annotate(_, what.str()));

  ASSIGN_OR_RETURN(auto params, Parameters(obj), Annotate(_, what.str()));
  ASSIGN_OR_RETURN(auto shm, SharedMemoryOf(params, what));
  std::optional<uint64_t> binary_size;
  if (params.has_value()) {
    ASSIGN_OR_RETURN(binary_size, OptionalUint(*params, "binary_data_size"),
                     Annotate(_, what.str()));
  }
  element data;
  const bool has_data = obj["data"].get(data) == simdjson::SUCCESS;
  if (int(has_data) + int(binary_size.has_value()) + int(shm.has_value()) !=
      1) {
    // Triton's wording.
    return TensorError(
        what,
        absl::StrCat("Input must set only one of the following fields: "
                     "'data', 'binary_data_size' in 'parameters', "
                     "'shared_memory_region' in 'parameters'. But ",
                     has_data || binary_size || shm ? "set" : "no field is set",
                     has_data ? " 'data'" : "",
                     binary_size ? " 'binary_data_size'" : "",
                     shm ? " 'shared_memory_region'" : ""));
  }
  if (shm.has_value()) {
    ASSIGN_OR_RETURN(SharedMemoryView region, MapRegion(ctx, *shm, what));
    const std::string_view bytes(region.data, region.size);
    RETURN_IF_ERROR(CheckTensorBytes(view.datatype, view.shape, bytes),
                    Annotate(_, what.str()));
    view.data = region.data;
    view.byte_size = region.size;
  } else if (binary_size.has_value()) {
    if (ctx.json_length == ctx.body.size() && *binary_size > 0) {
      return TensorError(what,
                         "binary_data_size given but the request has no binary "
                         "part (Inference-Header-Content-Length missing)");
    }
    RETURN_IF_ERROR(DecodeBinaryInput(ctx, *binary_size, what, &view));
  } else {
    RETURN_IF_ERROR(DecodeJsonInput(ctx, data, what, &view));
  }
  return view;
}

absl::Status DecodeOutputs(DecodeContext& ctx, element outputs,
                           DecodedInfer* out) {
  if (outputs.type() != element_type::ARRAY) {
    return Invalid(ctx.model, "'outputs' must be an array");
  }
  const array list = outputs.get_array().value_unsafe();
  for (element o : list) {
    std::string_view name;
    if (o.type() != element_type::OBJECT ||
        o["name"].get(name) != simdjson::SUCCESS) {
      return Invalid(ctx.model,
                     "each entry of 'outputs' needs a string 'name'");
    }
    const TensorName what{"output", name, ctx.model};
    out->request.requested_outputs.emplace_back(name);
    ASSIGN_OR_RETURN(auto params, Parameters(o.get_object().value_unsafe()),
                     Annotate(_, what.str()));
    if (!params.has_value()) continue;
    ASSIGN_OR_RETURN(auto binary, OptionalBool(*params, "binary_data"),
                     Annotate(_, what.str()));
    ASSIGN_OR_RETURN(auto classes, OptionalUint(*params, "classification"),
                     Annotate(_, what.str()));
    ASSIGN_OR_RETURN(auto shm, SharedMemoryOf(params, what));
    if (binary.has_value()) out->encoding.binary[std::string(name)] = *binary;
    OutputOptions options;
    options.name = std::string(name);
    if (classes.has_value() && *classes > 0) {
      if (*classes > UINT32_MAX) {
        return TensorError(what, "Unable to set 'classification': too large");
      }
      options.classification = static_cast<uint32_t>(*classes);
    }
    if (shm.has_value()) {
      if (options.classification > 0) {
        return TensorError(what,
                           "Output can't set both "
                           "'shared_memory_region' and "
                           "'classification'");
      }
      if (binary.value_or(false)) {
        return TensorError(what,
                           "Output can't set both "
                           "'shared_memory_region' and 'binary_data'");
      }
      ASSIGN_OR_RETURN(SharedMemoryView region, MapRegion(ctx, *shm, what));
      options.shared_memory = region.data;
      options.shared_memory_size = region.size;
    }
    if (options.classification > 0 || options.shared_memory != nullptr) {
      out->request.output_options.push_back(std::move(options));
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeRequestParameters(std::string_view model, object root,
                                     DecodedInfer* out) {
  auto params = Parameters(root);
  if (!params.ok()) return Invalid(model, ToStd(params.status().message()));
  if (!params->has_value()) return absl::OkStatus();
  object p = **params;
  auto priority = OptionalUint(p, "priority");
  auto timeout = OptionalUint(p, "timeout");
  auto binary = OptionalBool(p, "binary_data_output");
  for (const absl::Status& s :
       {priority.status(), timeout.status(), binary.status()}) {
    if (!s.ok()) return Invalid(model, ToStd(s.message()));
  }
  if (priority->has_value()) {
    if (**priority > UINT32_MAX) {
      return Invalid(model, "parameter 'priority' is out of range");
    }
    out->request.priority = static_cast<uint32_t>(**priority);
  }
  if (timeout->has_value()) out->request.timeout_us = **timeout;
  if (binary->has_value()) out->encoding.all_binary = **binary;
  out->request.parameters_json = simdjson::minify(p);
  return absl::OkStatus();
}

}  // namespace

bool OutputEncoding::IsBinary(std::string_view name) const {
  auto it = binary.find(ToAbsl(name));
  return it != binary.end() ? it->second : all_binary;
}

absl::StatusOr<DecodedInfer> DecodeInferRequest(
    std::string_view model, int64_t version, std::string_view body,
    std::optional<size_t> header_length, const ServerApi* shared_memory) {
  const size_t json_length = header_length.value_or(body.size());
  if (json_length > body.size()) {
    return Invalid(
        model, absl::StrCat("Inference-Header-Content-Length is ", json_length,
                            " but the body has only ", body.size(), " bytes"));
  }
  // One parser per I/O thread: it keeps its buffers between requests.
  thread_local simdjson::dom::parser parser;
  element root;
  if (auto error = parser.parse(body.data(), json_length).get(root);
      error != simdjson::SUCCESS) {
    return Invalid(model, absl::StrCat("malformed JSON in request: ",
                                       simdjson::error_message(error)));
  }
  if (root.type() != element_type::OBJECT) {
    return Invalid(model, "the request must be a JSON object");
  }
  object obj = root.get_object().value_unsafe();

  DecodedInfer out;
  InferenceRequest& req = out.request;
  req.model_name = std::string(model);
  req.model_version = version;
  if (element id; obj["id"].get(id) == simdjson::SUCCESS) {
    std::string_view id_text;
    if (id.get(id_text) != simdjson::SUCCESS) {
      return Invalid(model, "'id' must be a string");
    }
    req.id = std::string(id_text);
  }
  RETURN_IF_ERROR(DecodeRequestParameters(model, obj, &out));

  DecodeContext ctx{model,       body,         json_length,
                    json_length, &out.request, shared_memory};
  array inputs;
  if (obj["inputs"].get(inputs) != simdjson::SUCCESS) {
    return Invalid(model, "the request needs an 'inputs' array");
  }
  for (element input : inputs) {
    ASSIGN_OR_RETURN(auto view, DecodeInput(ctx, input));
    // A linear scan: requests have few inputs, and it allocates nothing.
    bool repeated = false;
    for (const TensorView& earlier : req.inputs) {
      repeated = repeated || earlier.name == view.name;
    }
    if (repeated) {
      return Invalid(model, absl::StrCat("input '", view.name,
                                         "' already exists in request"));
    }
    req.inputs.push_back(std::move(view));
  }
  if (ctx.binary_offset != body.size()) {
    return Invalid(
        model,
        absl::StrCat(
            body.size() - ctx.binary_offset,
            " bytes of binary data in the body are not claimed by any input's "
            "binary_data_size"));
  }
  if (element outputs; obj["outputs"].get(outputs) == simdjson::SUCCESS) {
    RETURN_IF_ERROR(DecodeOutputs(ctx, outputs, &out));
  }
  return out;
}

absl::StatusOr<DecodedInfer> DecodeRawInferRequest(std::string_view model,
                                                   const ModelSpec& spec,
                                                   std::string_view body) {
  // Triton's rules and texts (clients match on them), then serval's detail.
  if (spec.inputs.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Raw request must only have 1 input (found 1) to be deduced but got ",
        spec.inputs.size(), " inputs in '", ToAbsl(model),
        "' model configuration; send the inference header (JSON, with "
        "Inference-Header-Content-Length) to name each input"));
  }
  const TensorSpec& input = spec.inputs[0];
  Shape shape;
  if (spec.batching()) shape.push_back(1);
  int variable = -1;
  int64_t fixed_elements = 1;
  for (int64_t d : input.dims) {
    if (d < 0) {
      if (variable >= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("The shape of the raw input '", input.name,
                         "' can not be deduced because there are more than one "
                         "variable-sized dimension (declared ",
                         ShapeToString(spec.FullInputShape(0)), ")"));
      }
      variable = static_cast<int>(shape.size());
    } else {
      if (d != 0 && fixed_elements > std::numeric_limits<int64_t>::max() / d) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input '", input.name, "' of model '", ToAbsl(model),
            "': declared shape causes total element count to exceed maximum "
            "size"));
      }
      fixed_elements *= d;
    }
    shape.push_back(d);
  }
  DecodedInfer out;
  out.request.model_name = std::string(model);
  // Triton answers a raw request with binary outputs.
  out.encoding.all_binary = true;
  TensorView view;
  view.name = input.name;
  view.datatype = input.datatype;
  if (input.datatype == DataType::kBytes) {
    // The body is the bytes of one string element.
    if (variable >= 0 || fixed_elements != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("For BYTE datatype raw input '", input.name,
                       "', the model must have input shape [1] (declared ",
                       ShapeToString(spec.FullInputShape(0)), ")"));
    }
    if (body.size() > std::numeric_limits<uint32_t>::max()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "raw BYTES input '", input.name, "' is larger than 4 GiB"));
    }
    TensorBuffer element;
    element.Resize(4 + body.size());
    const uint32_t length = static_cast<uint32_t>(body.size());
    std::memcpy(element.data(), &length, 4);
    if (!body.empty())
      std::memcpy(element.data() + 4, body.data(), body.size());
    view.data = element.data();
    view.byte_size = element.size();
    out.request.owned_data.push_back(std::move(element));
  } else {
    if (variable >= 0) {
      // Integer division, as Triton: a body that is no whole number of
      // elements fails the byte-size check against the deduced shape.
      const int64_t element_size =
          static_cast<int64_t>(ElementSize(input.datatype));
      const int64_t per_slice = fixed_elements * element_size;
      shape[variable] =
          per_slice > 0 ? static_cast<int64_t>(body.size()) / per_slice : 0;
    }
    view.data = body.data();
    view.byte_size = body.size();
  }
  view.shape = std::move(shape);
  out.request.inputs.push_back(std::move(view));
  return out;
}

}  // namespace serval::http
