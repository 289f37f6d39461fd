// One loaded ONNX model version: the single Ort::Session that all of its
// instances share (Session::Run is thread-safe), plus what execute needs to
// bind tensors without looking anything up by string at run time.
// Immutable after Create; safe to use from several instances at once.
#ifndef SERVAL_BACKENDS_ONNXRUNTIME_ORT_MODEL_H_
#define SERVAL_BACKENDS_ONNXRUNTIME_ORT_MODEL_H_

#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ort_signature.h"
#include "serval/backend.h"

namespace serval::ort {

// Session settings, from the config's `parameters` (defaults in brackets):
//   intra_op_thread_count   [available CPUs / instance_count, at least 1]
//   inter_op_thread_count   [1; a value > 1 selects ORT's parallel executor]
//   graph_optimization_level  disable | basic | extended | all  [all]
struct OrtModelOptions {
  int intra_op_threads = 1;
  int inter_op_threads = 1;
  GraphOptimizationLevel optimization = ORT_ENABLE_ALL;
  // Whether intra-op threads spin between parallel sections (ORT's
  // session.intra_op.allow_spinning). Off by default: a spinning pool
  // thread takes the core the server's HTTP and gRPC threads need, and the
  // example MLP served over HTTP used ~20% less CPU per request without it
  // at the same throughput (docs/backends.md).
  bool intra_op_spinning = false;
};

// Throws PluginError(INVALID_ARGUMENT) for a bad value of a known key.
OrtModelOptions ParseModelOptions(const ServalModelInfo& info);

class OrtModel {
 public:
  // A declared tensor bound to the model.
  struct Binding {
    std::string name;
    ServalDataType datatype = SERVAL_TYPE_INVALID;
    // Dims without the batch dimension, merged from config and model;
    // -1 where neither fixes the size.
    std::vector<int64_t> dims;
    bool static_shape = false;  // every dim known: outputs go straight to host
  };

  // Loads the model file and checks the declared config against it.
  // Throws PluginError; the host prefixes its messages with the model name.
  static std::unique_ptr<OrtModel> Create(const ServalModelInfo& info);

  const std::string& context() const { return context_; }
  Ort::Session& session() { return *session_; }
  bool batching() const { return max_batch_size_ > 0; }
  const OrtModelOptions& options() const { return options_; }
  // Inputs in the order the session wants them.
  const std::vector<Binding>& inputs() const { return inputs_; }
  const std::vector<const char*>& input_names() const { return input_names_; }
  // Every declared output; FindOutput gives its index.
  const std::vector<Binding>& outputs() const { return outputs_; }
  std::optional<size_t> FindOutput(const char* name) const;

 private:
  OrtModel() = default;

  std::string context_;  // "model 'mlp' version 1", prefix of every error
  int32_t max_batch_size_ = 0;
  OrtModelOptions options_;
  std::unique_ptr<Ort::Session> session_;
  std::vector<Binding> inputs_;
  std::vector<const char*> input_names_;  // point into inputs_
  std::vector<Binding> outputs_;
};

// Loads only the signature (no graph optimisation) for auto-complete.
OnnxSignature ReadModelFileSignature(const char* model_file);

}  // namespace serval::ort

#endif  // SERVAL_BACKENDS_ONNXRUNTIME_ORT_MODEL_H_
