#include "model_spec.h"

#include <sched.h>

#include <charconv>
#include <thread>

#include "backend_error.h"

namespace serval::torch_backend {
namespace {

std::vector<TensorSpec> CopySpecs(const ServalTensorSpec* specs, uint32_t n,
                                  const char* what) {
  if (n > 0 && specs == nullptr) {
    throw BackendError(SERVAL_INVALID_ARGUMENT,
                       std::string("model info has no ") + what + " array");
  }
  std::vector<TensorSpec> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    TensorSpec spec;
    spec.name = specs[i].name != nullptr ? specs[i].name : "";
    spec.datatype = specs[i].datatype;
    if (specs[i].rank > 0 && specs[i].dims != nullptr) {
      spec.dims.assign(specs[i].dims, specs[i].dims + specs[i].rank);
    }
    out.push_back(std::move(spec));
  }
  return out;
}

// Parses a positive int parameter; 0 when absent.
int PositiveIntParameter(const ModelSpec& spec, const std::string& lower,
                         const std::string& upper) {
  auto it = spec.parameters.find(lower);
  if (it == spec.parameters.end()) it = spec.parameters.find(upper);
  if (it == spec.parameters.end()) return 0;
  const std::string& text = it->second;
  int value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    throw BackendError(SERVAL_INVALID_ARGUMENT,
                       "parameter '" + it->first +
                           "' must be a positive integer, got '" + text + "'");
  }
  return value;
}

}  // namespace

std::string ModelSpec::Label() const {
  return "model '" + name + "' version " + std::to_string(version);
}

ModelSpec SpecFromInfo(const ServalModelInfo& info) {
  ModelSpec spec;
  spec.name = info.name != nullptr ? info.name : "";
  spec.version = info.version;
  spec.model_file = info.model_file != nullptr ? info.model_file : "";
  spec.max_batch_size = info.max_batch_size;
  spec.inputs = CopySpecs(info.inputs, info.input_count, "inputs");
  spec.outputs = CopySpecs(info.outputs, info.output_count, "outputs");
  for (uint32_t i = 0; i < info.parameter_count; ++i) {
    const ServalParameter& p = info.parameters[i];
    if (p.key != nullptr) spec.parameters[p.key] = p.value ? p.value : "";
  }
  spec.instance_count = info.instance_count > 0 ? info.instance_count : 1;
  if (spec.model_file.empty()) {
    throw BackendError(SERVAL_INVALID_ARGUMENT, "no model file given");
  }
  return spec;
}

ThreadParameters ReadThreadParameters(const ModelSpec& spec) {
  ThreadParameters t;
  t.intra_op = PositiveIntParameter(spec, "intra_op_thread_count",
                                    "INTRA_OP_THREAD_COUNT");
  t.inter_op = PositiveIntParameter(spec, "inter_op_thread_count",
                                    "INTER_OP_THREAD_COUNT");
  return t;
}

unsigned AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<unsigned>(count);
  }
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? hardware : 1;
}

int IntraOpThreadsPerInstance(const ModelSpec& spec,
                              unsigned hardware_threads) {
  const int configured = ReadThreadParameters(spec).intra_op;
  if (configured > 0) return configured;
  const unsigned share = hardware_threads / spec.instance_count;
  return share > 0 ? static_cast<int>(share) : 1;
}

std::optional<int> ConventionIndex(std::string_view name) {
  const size_t sep = name.rfind("__");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  const std::string_view digits = name.substr(sep + 2);
  if (digits.empty()) return std::nullopt;
  int index = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || end != digits.data() + digits.size() || index < 0) {
    return std::nullopt;
  }
  return index;
}

const char* DataTypeName(int32_t datatype) {
  switch (datatype) {
    case SERVAL_TYPE_BOOL:
      return "BOOL";
    case SERVAL_TYPE_UINT8:
      return "UINT8";
    case SERVAL_TYPE_UINT16:
      return "UINT16";
    case SERVAL_TYPE_UINT32:
      return "UINT32";
    case SERVAL_TYPE_UINT64:
      return "UINT64";
    case SERVAL_TYPE_INT8:
      return "INT8";
    case SERVAL_TYPE_INT16:
      return "INT16";
    case SERVAL_TYPE_INT32:
      return "INT32";
    case SERVAL_TYPE_INT64:
      return "INT64";
    case SERVAL_TYPE_FP16:
      return "FP16";
    case SERVAL_TYPE_FP32:
      return "FP32";
    case SERVAL_TYPE_FP64:
      return "FP64";
    case SERVAL_TYPE_BF16:
      return "BF16";
    case SERVAL_TYPE_BYTES:
      return "BYTES";
    default:
      return "INVALID";
  }
}

}  // namespace serval::torch_backend
