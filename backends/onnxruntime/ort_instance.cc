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
  model_->session().Run(run_options_, input_names_.data(), input_values_.data(),
                        input_values_.size(), output_names_.data(),
                        output_values_.data(), output_names_.size());
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
  input_names_.clear();
  batch_size_ = 0;
  for (const OrtModel::Binding& in : model_->inputs()) {
    const ServalTensor* t = nullptr;
    for (uint32_t i = 0; i < count; ++i) {
      if (in.name == tensors[i].name) t = &tensors[i];
    }
    // An optional input the requests left out: ORT uses the graph's
    // initializer for it, or says the graph needs it.
    if (t == nullptr) continue;
    input_names_.push_back(in.name.c_str());
    if (t->datatype != in.datatype) {
      throw PluginError(
          SERVAL_INVALID_ARGUMENT,
          "input '" + in.name + "': expected datatype " +
              ApiTypeName(in.datatype) + ", got " +
              ApiTypeName(static_cast<ServalDataType>(t->datatype)));
    }
    if (model_->batching() && t->rank > 0 && batch_size_ == 0) {
      batch_size_ = t->shape[0];
    }
    if (in.datatype == SERVAL_TYPE_BYTES) {
      input_values_.push_back(StringTensor(*t));
      continue;
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
    // Strings live in ORT's own memory: always copied out after the run.
    if (!out.static_shape || out.datatype == SERVAL_TYPE_BYTES) {
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
    if (out.datatype == SERVAL_TYPE_BYTES) {
      CopyStringOutput(batch, out, value, shape);
      continue;
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

// A BYTES input as an ORT string tensor: each element's bytes copied into
// the element ORT allocates (any bytes, NUL and non-UTF-8 included).
Ort::Value OrtInstance::StringTensor(const ServalTensor& t) {
  const uint64_t count = ElementCount(t.shape, t.rank);
  Ort::Value value = Ort::Value::CreateTensor(
      allocator_, t.shape, t.rank, ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING);
  const char* p = static_cast<const char*>(t.data);
  const char* end = p + t.byte_size;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (end - p < 4) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        std::string("input '") + t.name +
                            "': BYTES data ends before element " +
                            std::to_string(i));
    }
    std::memcpy(&len, p, 4);
    p += 4;
    if (static_cast<uint64_t>(end - p) < len) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        std::string("input '") + t.name + "': BYTES element " +
                            std::to_string(i) + " runs past the data");
    }
    char* element = value.GetResizedStringTensorElementBuffer(i, len);
    if (len > 0) std::memcpy(element, p, len);
    p += len;
  }
  return value;
}

// An ORT string tensor into the host's serialized BYTES form.
void OrtInstance::CopyStringOutput(ServalBatch* batch,
                                   const OrtModel::Binding& out,
                                   const Ort::Value& value,
                                   const std::vector<int64_t>& shape) {
  const size_t count = ElementCount(shape.data(), shape.size());
  const size_t data_bytes = count > 0 ? value.GetStringTensorDataLength() : 0;
  string_data_.resize(data_bytes);
  string_offsets_.resize(count);
  if (count > 0) {
    value.GetStringTensorContent(string_data_.data(), data_bytes,
                                 string_offsets_.data(), count);
  }
  const uint64_t bytes = 4 * count + data_bytes;
  void* buffer = nullptr;
  Check(Host().batch_output_buffer(batch, out.name.c_str(), out.datatype,
                                   shape.data(), shape.size(), bytes, &buffer));
  char* dst = static_cast<char*>(buffer);
  for (size_t i = 0; i < count; ++i) {
    const size_t begin = string_offsets_[i];
    const size_t stop = i + 1 < count ? string_offsets_[i + 1] : data_bytes;
    const uint32_t len = static_cast<uint32_t>(stop - begin);
    std::memcpy(dst, &len, 4);
    if (len > 0) std::memcpy(dst + 4, string_data_.data() + begin, len);
    dst += 4 + len;
  }
}

}  // namespace serval::ort
