#include "model_spec.h"

#include <charconv>

#include "backend_error.h"

namespace serval::torch_backend {
namespace {

std::vector<TensorSpec> CopySpecs(const ServalTensorSpec* specs, uint32_t n,
                                  const char* what) {
  if (n > 0 && specs == nullptr) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
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
  return backend_util::ParsePositiveInt(it->first, it->second);
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
    throw PluginError(SERVAL_INVALID_ARGUMENT, "no model file given");
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

}  // namespace serval::torch_backend
