// The tensors `serval perf` sends, and their encodings: KServe v2 JSON,
// the binary tensor extension, and (in grpc_transport) raw_input_contents.
// Built once per run from the model's metadata or from a JSON file, then
// shared read-only by every request. Pure functions; safe from any thread.
#ifndef SERVAL_TOOLS_PERF_MODEL_INPUTS_H_
#define SERVAL_TOOLS_PERF_MODEL_INPUTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace serval::perf {

// One input as the server's metadata describes it (-1: variable dim).
struct TensorSpec {
  std::string name;
  std::string datatype;  // KServe name: FP32, INT64, BYTES, ...
  std::vector<int64_t> shape;
};

struct ModelInfo {
  std::vector<TensorSpec> inputs;
  // > 0: the first metadata dim is the batch dim.
  int64_t max_batch_size = 0;
};

// A tensor ready to send: raw little-endian row-major bytes (BYTES: each
// element a 4-byte little-endian length then its bytes).
struct InputTensor {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
  std::string raw;
};

enum class InputKind { kRandom, kZeros };

struct InputOptions {
  InputKind kind = InputKind::kRandom;
  // Shapes without the batch dim, for inputs with variable dims.
  std::map<std::string, std::vector<int64_t>> shapes;
  int64_t batch_size = 1;
  // Random integers are drawn from [int_min, int_max) (token ids, classes).
  int64_t int_min = 0;
  int64_t int_max = 100;
  // Length of each random BYTES element.
  int bytes_length = 8;
  uint64_t seed = 1;
};

// Reads `GET /v2/models/{m}` and `GET .../config` bodies (config may be
// empty: max_batch_size is then 0).
absl::StatusOr<ModelInfo> ParseModelInfoJson(std::string_view metadata,
                                             std::string_view config);

// Random or zero tensors for every input of the model.
absl::StatusOr<std::vector<InputTensor>> MakeInputs(
    const ModelInfo& model, const InputOptions& options);

// A KServe v2 JSON infer request body (`{"inputs": [...]}`) read into
// tensors; `data` may be flat or nested.
absl::StatusOr<std::vector<InputTensor>> ParseInputsJson(std::string_view text);

// Size of one element of `datatype` in bytes; 0 for BYTES or unknown.
int ElementSize(std::string_view datatype);

// Request bodies. The binary form returns the length of its JSON header
// (the Inference-Header-Content-Length value) in `header_length`.
std::string JsonInferBody(const std::vector<InputTensor>& inputs);
std::string BinaryInferBody(const std::vector<InputTensor>& inputs,
                            size_t* header_length);

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_MODEL_INPUTS_H_
