#include "ort_instance.h"

#include <time.h>

#include <cstring>
#include <string>

#include "ort_common.h"

namespace serval::ort {
namespace {

// A ServalError the host returned; passed back to batch_complete as is.
struct HostFailure {
  ServalError* error;
};

void Check(ServalError* error) {
  if (error != nullptr) throw HostFailure{error};
}

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

int64_t ElementCount(const int64_t* shape, size_t rank) {
  int64_t n = 1;
  for (size_t i = 0; i < rank; ++i) n *= shape[i];
  return n;
}

}  // namespace

OrtInstance::OrtInstance(OrtModel* model, uint32_t index)
    : model_(model),
      cpu_memory_(
          Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault)) {
  const std::string tag =
      model->context() + " instance " + std::to_string(index);
  run_options_.SetRunTag(tag.c_str());
}

void OrtInstance::Execute(ServalBatch* batch) {
  ServalError* error = nullptr;
  try {
    Run(batch);
  } catch (const HostFailure& f) {
    error = f.error;
  } catch (...) {
    error = CurrentExceptionToError(model_->context());
  }
  // Drop views of host memory before the host may free it.
  input_values_.clear();
  output_values_.clear();
  Host().batch_complete(batch, error);
}

void OrtInstance::Run(ServalBatch* batch) {
  BindInputs(batch);
  BindOutputs(batch);
  const uint64_t input_end = MonotonicNs();
  model_->session().Run(run_options_, model_->input_names().data(),
                        input_values_.data(), input_values_.size(),
                        output_names_.data(), output_values_.data(),
                        output_names_.size());
  const uint64_t infer_end = MonotonicNs();
  CopyDynamicOutputs(batch);
  if (Host().batch_report_times != nullptr) {
    Host().batch_report_times(batch, input_end, infer_end);
  }
}

// Wraps the host's input buffers as ORT tensors, without copying.
void OrtInstance::BindInputs(ServalBatch* batch) {
  const ServalTensor* tensors = nullptr;
  uint32_t count = 0;
  Check(Host().batch_inputs(batch, &tensors, &count));
  input_values_.clear();
  batch_size_ = 0;
  for (const OrtModel::Binding& in : model_->inputs()) {
    const ServalTensor* t = nullptr;
    for (uint32_t i = 0; i < count; ++i) {
      if (in.name == tensors[i].name) t = &tensors[i];
    }
    if (t == nullptr) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "input '" + in.name + "' is missing from the batch");
    }
    if (t->datatype != in.datatype) {
      throw PluginError(
          SERVAL_INVALID_ARGUMENT,
          "input '" + in.name + "': expected datatype " +
              ApiTypeName(in.datatype) + ", got " +
              ApiTypeName(static_cast<ServalDataType>(t->datatype)));
    }
    const uint64_t expected =
        ElementCount(t->shape, t->rank) * ElementSize(in.datatype);
    if (expected != t->byte_size) {
      throw PluginError(
          SERVAL_INVALID_ARGUMENT,
          "input '" + in.name + "': shape " +
              DimsToString(std::vector<int64_t>(t->shape, t->shape + t->rank)) +
              " needs " + std::to_string(expected) + " bytes, got " +
              std::to_string(t->byte_size));
    }
    if (model_->batching() && t->rank > 0 && batch_size_ == 0) {
      batch_size_ = t->shape[0];
    }
    // ORT only reads inputs; the const_cast is the API's shape, not a write.
    input_values_.push_back(Ort::Value::CreateTensor(
        cpu_memory_, const_cast<void*>(t->data), t->byte_size, t->shape,
        t->rank, ToOnnx(in.datatype)));
  }
}

// Outputs whose shape the config fixes are allocated by the host up front
// and ORT writes into them directly; the rest are copied after the run.
void OrtInstance::BindOutputs(ServalBatch* batch) {
  const char* const* names = nullptr;
  uint32_t count = 0;
  Check(Host().batch_requested_outputs(batch, &names, &count));
  output_names_.clear();
  output_index_.clear();
  output_values_.clear();
  output_on_host_.clear();
  for (uint32_t i = 0; i < count; ++i) {
    const auto index = model_->FindOutput(names[i]);
    if (!index) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        std::string("unknown output '") + names[i] + "'");
    }
    const OrtModel::Binding& out = model_->outputs()[*index];
    output_names_.push_back(out.name.c_str());
    output_index_.push_back(*index);
    if (!out.static_shape) {
      output_values_.emplace_back(nullptr);
      output_on_host_.push_back(false);
      continue;
    }
    shape_.clear();
    if (model_->batching()) shape_.push_back(batch_size_);
    shape_.insert(shape_.end(), out.dims.begin(), out.dims.end());
    const uint64_t bytes =
        ElementCount(shape_.data(), shape_.size()) * ElementSize(out.datatype);
    void* buffer = nullptr;
    Check(Host().batch_output_buffer(batch, out.name.c_str(), out.datatype,
                                     shape_.data(), shape_.size(), bytes,
                                     &buffer));
    output_values_.push_back(
        Ort::Value::CreateTensor(cpu_memory_, buffer, bytes, shape_.data(),
                                 shape_.size(), ToOnnx(out.datatype)));
    output_on_host_.push_back(true);
  }
}

void OrtInstance::CopyDynamicOutputs(ServalBatch* batch) {
  for (size_t i = 0; i < output_values_.size(); ++i) {
    if (output_on_host_[i]) continue;
    const OrtModel::Binding& out = model_->outputs()[output_index_[i]];
    Ort::Value& value = output_values_[i];
    auto info = value.GetTensorTypeAndShapeInfo();
    const std::vector<int64_t> shape = info.GetShape();
    if (info.GetElementType() != ToOnnx(out.datatype)) {
      throw PluginError(SERVAL_INTERNAL,
                        "output '" + out.name + "' has datatype " +
                            OnnxTypeName(info.GetElementType()) +
                            " but the config declares " +
                            ApiTypeName(out.datatype));
    }
    const uint64_t bytes =
        ElementCount(shape.data(), shape.size()) * ElementSize(out.datatype);
    void* buffer = nullptr;
    Check(Host().batch_output_buffer(batch, out.name.c_str(), out.datatype,
                                     shape.data(), shape.size(), bytes,
                                     &buffer));
    if (bytes > 0) std::memcpy(buffer, value.GetTensorRawData(), bytes);
  }
}

}  // namespace serval::ort
