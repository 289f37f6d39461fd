// An execution context of an OrtModel: its own Ort::RunOptions and scratch
// vectors over the model's shared session. execute() is never called
// concurrently for one instance (host guarantee), so no locking here;
// different instances run concurrently on the shared session.
#ifndef SERVAL_BACKENDS_ONNXRUNTIME_ORT_INSTANCE_H_
#define SERVAL_BACKENDS_ONNXRUNTIME_ORT_INSTANCE_H_

#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <vector>

#include "ort_model.h"
#include "serval/backend.h"

namespace serval::ort {

class OrtInstance {
 public:
  // The model must outlive the instance (the host destroys instances
  // before their model).
  OrtInstance(OrtModel* model, uint32_t index);

  // Runs the batch and completes it exactly once.
  void Execute(ServalBatch* batch);

 private:
  // Binds inputs and outputs, runs, writes outputs; throws on failure.
  void Run(ServalBatch* batch);
  void BindInputs(ServalBatch* batch);
  void BindOutputs(ServalBatch* batch);
  void CopyDynamicOutputs(ServalBatch* batch);
  Ort::Value StringTensor(const ServalTensor& t);
  void CopyStringOutput(ServalBatch* batch, const OrtModel::Binding& out,
                        const Ort::Value& value,
                        const std::vector<int64_t>& shape);

  OrtModel* model_;
  Ort::RunOptions run_options_;
  Ort::MemoryInfo cpu_memory_;
  // Per-batch scratch, kept to reuse allocations.
  int64_t batch_size_ = 0;
  std::vector<Ort::Value> input_values_;
  // Names of the inputs given this batch (optional ones may be absent).
  std::vector<const char*> input_names_;
  std::vector<const char*> output_names_;
  std::vector<size_t> output_index_;
  std::vector<Ort::Value> output_values_;
  std::vector<bool> output_on_host_;
  std::vector<int64_t> shape_;
  // Scratch of string outputs, reused between batches.
  std::vector<char> string_data_;
  std::vector<size_t> string_offsets_;
  Ort::AllocatorWithDefaultOptions allocator_;
};

}  // namespace serval::ort

#endif  // SERVAL_BACKENDS_ONNXRUNTIME_ORT_INSTANCE_H_
