#include "ort_signature.h"

#include <algorithm>

#include "ort_common.h"

namespace serval::ort {
namespace {

OnnxTensor Describe(const std::string& name, const Ort::TypeInfo& info) {
  OnnxTensor t;
  t.name = name;
  t.is_tensor = info.GetONNXType() == ONNX_TYPE_TENSOR;
  if (!t.is_tensor) return t;
  auto shape_info = info.GetTensorTypeAndShapeInfo();
  t.onnx_type = shape_info.GetElementType();
  t.datatype = FromOnnx(t.onnx_type);
  t.dims = shape_info.GetShape();
  for (int64_t& d : t.dims) {
    if (d < 0) d = -1;  // symbolic dims come back as -1 already; be sure
  }
  return t;
}

const OnnxTensor* Find(const std::vector<OnnxTensor>& tensors,
                       const std::string& name) {
  for (const auto& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

bool DeclaredIn(const ServalTensorSpec* specs, uint32_t count,
                const std::string& name) {
  for (uint32_t i = 0; i < count; ++i) {
    if (name == specs[i].name) return true;
  }
  return false;
}

// Appends to `problems` what differs between one declared tensor and the
// model's tensor of that name.
void CompareTensor(const char* kind, const ServalTensorSpec& spec,
                   const OnnxTensor& model, int32_t max_batch_size,
                   std::vector<std::string>* problems) {
  const std::string what = std::string(kind) + " '" + spec.name + "'";
  if (!model.is_tensor) {
    problems->push_back(what +
                        " is not a tensor in the model (sequence/map "
                        "types are not supported)");
    return;
  }
  if (!model.datatype) {
    problems->push_back(what + " has datatype " +
                        OnnxTypeName(model.onnx_type) +
                        " in the model, which serval does not support");
    return;
  }
  if (*model.datatype != spec.datatype) {
    problems->push_back(
        what + ": config datatype " +
        ConfigTypeName(static_cast<ServalDataType>(spec.datatype)) +
        ", model datatype " + ConfigTypeName(*model.datatype));
  }
  std::vector<int64_t> declared(spec.dims, spec.dims + spec.rank);
  std::vector<int64_t> model_dims = model.dims;
  if (max_batch_size > 0) {
    if (model_dims.empty()) {
      problems->push_back(what +
                          " is a scalar in the model, so it cannot "
                          "batch (max_batch_size " +
                          std::to_string(max_batch_size) + ")");
      return;
    }
    const int64_t batch_dim = model_dims.front();
    if (batch_dim != -1 && !(batch_dim == 1 && max_batch_size == 1)) {
      problems->push_back(what + ": model shape " + DimsToString(model.dims) +
                          " has a fixed first dimension, so max_batch_size " +
                          std::to_string(max_batch_size) +
                          " cannot be honoured (use max_batch_size: 0 and "
                          "full dims)");
      return;
    }
    model_dims.erase(model_dims.begin());
  }
  // An empty model shape with a rank-0 config is a scalar; ONNX also lets a
  // model omit its shape entirely, which shows as rank 0 too: accept that.
  if (model.dims.empty() && max_batch_size == 0 && !declared.empty()) return;
  if (declared.size() != model_dims.size()) {
    problems->push_back(
        what + ": config dims " + DimsToString(declared) + " (rank " +
        std::to_string(declared.size()) + "), model dims " +
        DimsToString(model_dims) + " (rank " +
        std::to_string(model_dims.size()) + ")" +
        (max_batch_size > 0 ? " excluding the batch dimension" : ""));
    return;
  }
  for (size_t i = 0; i < declared.size(); ++i) {
    if (declared[i] >= 0 && model_dims[i] >= 0 &&
        declared[i] != model_dims[i]) {
      problems->push_back(what + ": config dims " + DimsToString(declared) +
                          " differ from model dims " +
                          DimsToString(model_dims) + " at index " +
                          std::to_string(i));
      return;
    }
  }
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void AppendTensors(const std::vector<OnnxTensor>& tensors, bool strip_batch,
                   std::string* json) {
  *json += "[";
  for (size_t i = 0; i < tensors.size(); ++i) {
    const OnnxTensor& t = tensors[i];
    std::vector<int64_t> dims = t.dims;
    if (strip_batch) dims.erase(dims.begin());
    if (i > 0) *json += ",";
    *json += "{\"name\":" + JsonString(t.name) + ",\"data_type\":\"" +
             ConfigTypeName(*t.datatype) + "\",\"dims\":" + DimsToString(dims) +
             "}";
  }
  *json += "]";
}

}  // namespace

OnnxSignature ReadSignature(const Ort::Session& session) {
  Ort::AllocatorWithDefaultOptions allocator;
  OnnxSignature sig;
  for (size_t i = 0; i < session.GetInputCount(); ++i) {
    sig.inputs.push_back(
        Describe(session.GetInputNameAllocated(i, allocator).get(),
                 session.GetInputTypeInfo(i)));
  }
  for (size_t i = 0; i < session.GetOutputCount(); ++i) {
    sig.outputs.push_back(
        Describe(session.GetOutputNameAllocated(i, allocator).get(),
                 session.GetOutputTypeInfo(i)));
  }
  return sig;
}

void CheckConfigMatchesModel(const ServalModelInfo& info,
                             const OnnxSignature& model) {
  std::vector<std::string> problems;
  for (uint32_t i = 0; i < info.input_count; ++i) {
    const ServalTensorSpec& spec = info.inputs[i];
    const OnnxTensor* t = Find(model.inputs, spec.name);
    if (t == nullptr) {
      problems.push_back(std::string("config input '") + spec.name +
                         "' is not an input of the model");
    } else {
      CompareTensor("input", spec, *t, info.max_batch_size, &problems);
    }
  }
  for (const OnnxTensor& t : model.inputs) {
    if (!DeclaredIn(info.inputs, info.input_count, t.name)) {
      problems.push_back("model input '" + t.name +
                         "' is missing from the config");
    }
  }
  for (uint32_t i = 0; i < info.output_count; ++i) {
    const ServalTensorSpec& spec = info.outputs[i];
    const OnnxTensor* t = Find(model.outputs, spec.name);
    if (t == nullptr) {
      problems.push_back(std::string("config output '") + spec.name +
                         "' is not an output of the model");
    } else {
      CompareTensor("output", spec, *t, info.max_batch_size, &problems);
    }
  }
  if (problems.empty()) return;
  std::string message = std::string("config does not match the model file ") +
                        info.model_file + ": ";
  for (size_t i = 0; i < problems.size(); ++i) {
    if (i > 0) message += "; ";
    message += problems[i];
  }
  throw PluginError(SERVAL_INVALID_ARGUMENT, message);
}

std::string AutocompleteJson(const OnnxSignature& model) {
  bool all_batched = !model.inputs.empty() || !model.outputs.empty();
  for (const auto* list : {&model.inputs, &model.outputs}) {
    for (const OnnxTensor& t : *list) {
      if (!t.is_tensor || !t.datatype) {
        throw PluginError(SERVAL_INVALID_ARGUMENT,
                          "tensor '" + t.name + "' has " +
                              (t.is_tensor ? std::string("datatype ") +
                                                 OnnxTypeName(t.onnx_type)
                                           : std::string("a non-tensor type")) +
                              ", which serval does not support");
      }
      all_batched = all_batched && !t.dims.empty() && t.dims.front() == -1;
    }
  }
  std::string json =
      "{\"max_batch_size\":" +
      std::to_string(all_batched ? kAutocompleteMaxBatchSize : 0) +
      ",\"input\":";
  AppendTensors(model.inputs, all_batched, &json);
  json += ",\"output\":";
  AppendTensors(model.outputs, all_batched, &json);
  return json + "}";
}

}  // namespace serval::ort
