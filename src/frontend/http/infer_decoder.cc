#include "frontend/http/infer_decoder.h"

#include <simdjson.h>

#include <utility>

#include "absl/container/flat_hash_set.h"
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

// State shared while decoding the inputs of one request.
struct DecodeContext {
  std::string_view model;
  std::string_view body;
  size_t json_length;
  size_t binary_offset;  // next unread binary byte
  std::vector<TensorBuffer>* converted;
};

absl::Status DecodeBinaryInput(DecodeContext& ctx, uint64_t size,
                               const std::string& what, TensorView* view) {
  const size_t available = ctx.body.size() - ctx.binary_offset;
  if (size > available) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": binary_data_size is ", size, " but only ", available,
        " bytes of binary data remain in the request body"));
  }
  if (view->datatype == DataType::kBytes) {
    auto count = CountBytesElements(
        std::string_view(ctx.body.data() + ctx.binary_offset, size));
    if (!count.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", count.status().message()));
    }
    auto expected = ElementCount(view->shape);
    if (!expected.ok() || *count != *expected) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": shape ", ShapeToString(view->shape), " needs ",
                       expected.ok() ? absl::StrCat(*expected) : "too many",
                       " BYTES elements but the binary data holds ", *count));
    }
  } else {
    auto expected = ByteSize(view->datatype, view->shape);
    if (!expected.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", expected.status().message()));
    }
    if (static_cast<uint64_t>(*expected) != size) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": shape ", ShapeToString(view->shape), " of ",
                       ToAbsl(ApiName(view->datatype)), " needs ", *expected,
                       " bytes but binary_data_size is ", size));
    }
  }
  view->data = ctx.body.data() + ctx.binary_offset;
  view->byte_size = size;
  ctx.binary_offset += size;
  return absl::OkStatus();
}

absl::Status DecodeJsonInput(DecodeContext& ctx, element data,
                             const std::string& what, TensorView* view) {
  auto count = ElementCount(view->shape);
  if (!count.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", count.status().message()));
  }
  // Every JSON value takes at least one byte, so a shape larger than the
  // JSON text is wrong; checking first avoids allocating for it.
  if (static_cast<uint64_t>(*count) > ctx.json_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": shape ", ShapeToString(view->shape), " needs ", *count,
        " elements, more than the JSON request could hold"));
  }
  ASSIGN_OR_RETURN(auto buffer,
                   JsonDataToBuffer(data, view->datatype, *count, what));
  view->data = buffer.data();
  view->byte_size = buffer.size();
  ctx.converted->push_back(std::move(buffer));
  return absl::OkStatus();
}

// parameters.binary_data_size of an input, when given.
absl::StatusOr<std::optional<uint64_t>> InputBinarySize(
    object input, const std::string& what) {
  auto params = Parameters(input);
  if (!params.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", params.status().message()));
  }
  if (!params->has_value()) return std::optional<uint64_t>();
  if ((**params)["shared_memory_region"].error() == simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the shared-memory extension is not supported"));
  }
  auto size = OptionalUint(**params, "binary_data_size");
  if (!size.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", size.status().message()));
  }
  return *size;
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
  const std::string what = absl::StrCat("input '", ToAbsl(name), "' of model '",
                                        ToAbsl(ctx.model), "'");
  std::string_view datatype;
  if (obj["datatype"].get(datatype) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": missing string 'datatype'"));
  }
  auto type = DataTypeFromApiName(datatype);
  if (!type) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": unknown datatype '", ToAbsl(datatype), "'"));
  }
  view.datatype = *type;
  element shape;
  if (obj["shape"].get(shape) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": missing 'shape'"));
  }
  auto parsed_shape = ParseShape(shape);
  if (!parsed_shape.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", parsed_shape.status().message()));
  }
  view.shape = *std::move(parsed_shape);

  ASSIGN_OR_RETURN(auto binary_size, InputBinarySize(obj, what));
  element data;
  const bool has_data = obj["data"].get(data) == simdjson::SUCCESS;
  absl::Status status;
  if (binary_size.has_value()) {
    if (has_data) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": has both 'data' and parameters.binary_data_size"));
    }
    if (ctx.json_length == ctx.body.size() && *binary_size > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what,
                       ": binary_data_size given but the request has no binary "
                       "part (Inference-Header-Content-Length missing)"));
    }
    status = DecodeBinaryInput(ctx, *binary_size, what, &view);
  } else if (has_data) {
    status = DecodeJsonInput(ctx, data, what, &view);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": needs 'data' or parameters.binary_data_size"));
  }
  if (!status.ok()) return status;
  return view;
}

absl::Status DecodeOutputs(std::string_view model, element outputs,
                           DecodedInfer* out) {
  if (outputs.type() != element_type::ARRAY) {
    return Invalid(model, "'outputs' must be an array");
  }
  const array list = outputs.get_array().value_unsafe();
  for (element o : list) {
    std::string_view name;
    if (o.type() != element_type::OBJECT ||
        o["name"].get(name) != simdjson::SUCCESS) {
      return Invalid(model, "each entry of 'outputs' needs a string 'name'");
    }
    const std::string what = absl::StrCat("output '", ToAbsl(name),
                                          "' of model '", ToAbsl(model), "'");
    auto params = Parameters(o.get_object().value_unsafe());
    if (!params.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", params.status().message()));
    }
    if (params->has_value()) {
      if ((**params)["classification"].error() == simdjson::SUCCESS ||
          (**params)["shared_memory_region"].error() == simdjson::SUCCESS) {
        return absl::InvalidArgumentError(absl::StrCat(
            what,
            ": the classification and shared-memory extensions are "
            "not supported"));
      }
      auto binary = OptionalBool(**params, "binary_data");
      if (!binary.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": ", binary.status().message()));
      }
      if (binary->has_value())
        out->encoding.binary[std::string(name)] = **binary;
    }
    out->request.requested_outputs.emplace_back(name);
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
  return absl::OkStatus();
}

}  // namespace

bool OutputEncoding::IsBinary(std::string_view name) const {
  auto it = binary.find(ToAbsl(name));
  return it != binary.end() ? it->second : all_binary;
}

absl::StatusOr<DecodedInfer> DecodeInferRequest(
    std::string_view model, int64_t version, std::string_view body,
    std::optional<size_t> header_length) {
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

  DecodeContext ctx{model, body, json_length, json_length, &req.owned_data};
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
                                         "' appears more than once"));
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
    RETURN_IF_ERROR(DecodeOutputs(model, outputs, &out));
  }
  return out;
}

absl::StatusOr<DecodedInfer> DecodeRawInferRequest(std::string_view model,
                                                   const ModelSpec& spec,
                                                   std::string_view body) {
  if (spec.inputs.size() != 1) {
    return Invalid(
        model,
        absl::StrCat(
            "a raw binary request (no Inference-Header-Content-Length) needs a "
            "model with exactly one input; this one has ",
            spec.inputs.size()));
  }
  const TensorSpec& input = spec.inputs[0];
  const auto what = [&] {
    return absl::StrCat("input '", input.name, "' of model '", ToAbsl(model),
                        "'");
  };
  const Shape declared = spec.FullInputShape(0);
  Shape shape = declared;
  if (spec.batching()) shape[0] = 1;
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] >= 0) {
      known *= shape[i];
      continue;
    }
    if (unknown >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          what(), ": declared shape ", ShapeToString(declared),
          " has more than one variable dim; a raw binary request cannot "
          "say its shape, use the JSON header"));
    }
    unknown = static_cast<int>(i);
  }
  int64_t elements;
  if (input.datatype == DataType::kBytes) {
    auto count = CountBytesElements(body);
    if (!count.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what(), ": ", count.status().message()));
    }
    elements = *count;
  } else {
    const size_t element_size = ElementSize(input.datatype);
    if (element_size == 0 || body.size() % element_size != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          what(), ": body of ", body.size(), " bytes is not a whole number of ",
          ToAbsl(ApiName(input.datatype)), " elements"));
    }
    elements = static_cast<int64_t>(body.size() / element_size);
  }
  if (unknown >= 0) {
    if (known == 0 || elements % known != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          what(), ": ", elements, " elements do not fit declared shape ",
          ShapeToString(declared)));
    }
    shape[unknown] = elements / known;
  } else if (elements != known) {
    return absl::InvalidArgumentError(
        absl::StrCat(what(), ": shape ", ShapeToString(shape), " needs ", known,
                     " elements but the raw body holds ", elements));
  }
  DecodedInfer out;
  out.request.model_name = std::string(model);
  TensorView view;
  view.name = input.name;
  view.datatype = input.datatype;
  view.shape = std::move(shape);
  view.data = body.data();
  view.byte_size = body.size();
  out.request.inputs.push_back(std::move(view));
  return out;
}

}  // namespace serval::http
