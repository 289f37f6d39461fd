// ModelSpec: the torch plugin's own copy of what the host said about a
// model version (ServalModelInfo points into host memory that is only valid
// during model_create), plus the plugin's reading of config `parameters`.
// Plain data, no libtorch types, so it is cheap to compile and test.
#ifndef SERVAL_BACKENDS_TORCH_MODEL_SPEC_H_
#define SERVAL_BACKENDS_TORCH_MODEL_SPEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serval/backend.h"
#include "serval/backend_util.h"

namespace serval::torch_backend {

using backend_util::AvailableCpus;
// KServe name of a ServalDataType ("FP32"), "INVALID" when unknown.
inline const char* DataTypeName(int32_t datatype) {
  return backend_util::ApiTypeName(datatype);
}

struct TensorSpec {
  std::string name;
  int32_t datatype = SERVAL_TYPE_INVALID;  // ServalDataType
  std::vector<int64_t> dims;               // batch dimension excluded
};

// Threads a model asks for; 0 = not set in the config.
struct ThreadParameters {
  int intra_op = 0;
  int inter_op = 0;
};

struct ModelSpec {
  std::string name;
  int64_t version = 0;
  std::string model_file;
  int32_t max_batch_size = 0;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::map<std::string, std::string> parameters;
  uint32_t instance_count = 1;

  // "model 'mlp' version 1", the prefix of every error about this model.
  std::string Label() const;
};

// Copies the host's description. Throws PluginError for a malformed one.
ModelSpec SpecFromInfo(const ServalModelInfo& info);

// Reads intra_op_thread_count / inter_op_thread_count (Triton's upper-case
// INTRA_OP_THREAD_COUNT / INTER_OP_THREAD_COUNT too). Throws PluginError
// (INVALID_ARGUMENT) for a value that is not a positive integer.
ThreadParameters ReadThreadParameters(const ModelSpec& spec);

// Intra-op threads of one instance: the configured count, else
// hardware_threads / instance_count, at least 1.
int IntraOpThreadsPerInstance(const ModelSpec& spec, unsigned hardware_threads);

// Triton's positional naming convention: "INPUT__2" -> 2, "OUTPUT__0" -> 0,
// any "<prefix>__<digits>". nullopt when the name does not follow it.
std::optional<int> ConventionIndex(std::string_view name);

}  // namespace serval::torch_backend

#endif  // SERVAL_BACKENDS_TORCH_MODEL_SPEC_H_
