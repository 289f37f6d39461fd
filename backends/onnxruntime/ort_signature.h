// The inputs and outputs an ONNX model declares, read from an Ort::Session,
// and the check that a model configuration agrees with them.
#ifndef SERVAL_BACKENDS_ONNXRUNTIME_ORT_SIGNATURE_H_
#define SERVAL_BACKENDS_ONNXRUNTIME_ORT_SIGNATURE_H_

#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "serval/backend.h"

namespace serval::ort {

// One input or output as the ONNX file declares it.
struct OnnxTensor {
  std::string name;
  bool is_tensor = true;  // false for sequences, maps, optionals
  ONNXTensorElementDataType onnx_type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  std::optional<ServalDataType> datatype;  // nullopt: unsupported by serval
  std::vector<int64_t> dims;  // full shape; -1 for symbolic or unknown dims
};

struct OnnxSignature {
  std::vector<OnnxTensor> inputs;
  std::vector<OnnxTensor> outputs;
};

// Default max_batch_size proposed by auto-complete when every input and
// output has a dynamic first dimension (Triton proposes 4; serval's example
// models batch up to 32, 8 is a middle ground that rarely hurts latency).
inline constexpr int32_t kAutocompleteMaxBatchSize = 8;

OnnxSignature ReadSignature(const Ort::Session& session);

// Throws PluginError(INVALID_ARGUMENT) naming every difference between the
// declared configuration in `info` and the model: missing or unknown
// tensors, datatypes, ranks, fixed dims, a batch dimension that is not
// dynamic, and datatypes serval cannot serve.
void CheckConfigMatchesModel(const ServalModelInfo& info,
                             const OnnxSignature& model);

// The auto-complete JSON (Triton field names: max_batch_size, input,
// output with name/data_type/dims) for a model signature. Throws
// PluginError for tensors serval cannot serve.
std::string AutocompleteJson(const OnnxSignature& model);

}  // namespace serval::ort

#endif  // SERVAL_BACKENDS_ONNXRUNTIME_ORT_SIGNATURE_H_
