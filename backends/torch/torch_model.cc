// The only translation unit that includes libtorch headers (they are slow
// to compile); keep torch code here.
#include "torch_model.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <mutex>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backend_error.h"
#include "openblas_threads.h"

namespace serval::torch_backend {
namespace {

// ServalDataType -> torch dtype. libtorch 1.13 has no uint16/32/64, so
// those are refused at load; BYTES is List[str] (see CheckedType).
std::optional<at::ScalarType> TorchType(int32_t datatype) {
  switch (datatype) {
    case SERVAL_TYPE_BOOL:
      return at::kBool;
    case SERVAL_TYPE_UINT8:
      return at::kByte;
    case SERVAL_TYPE_INT8:
      return at::kChar;
    case SERVAL_TYPE_INT16:
      return at::kShort;
    case SERVAL_TYPE_INT32:
      return at::kInt;
    case SERVAL_TYPE_INT64:
      return at::kLong;
    case SERVAL_TYPE_FP16:
      return at::kHalf;
    case SERVAL_TYPE_FP32:
      return at::kFloat;
    case SERVAL_TYPE_FP64:
      return at::kDouble;
    case SERVAL_TYPE_BF16:
      return at::kBFloat16;
    default:
      return std::nullopt;
  }
}

// KServe name of a torch dtype, for error messages.
std::string TypeName(at::ScalarType type) {
  for (int32_t t = SERVAL_TYPE_BOOL; t <= SERVAL_TYPE_BF16; ++t) {
    if (TorchType(t) == type) return DataTypeName(t);
  }
  return c10::toString(type);
}

std::string ShapeText(c10::IntArrayRef shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

// BYTES tensors travel as TorchScript List[str], not as tensors; their
// entry in the type tables is unused.
at::ScalarType CheckedType(const TensorSpec& tensor, const char* role) {
  if (tensor.datatype == SERVAL_TYPE_BYTES) return at::kByte;
  std::optional<at::ScalarType> type = TorchType(tensor.datatype);
  if (!type) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      std::string(role) + " '" + tensor.name +
                          "' has datatype " + DataTypeName(tensor.datatype) +
                          ", which the torch backend does not support");
  }
  return *type;
}

// Where an instance's tensors live. The one place that knows about devices:
// a CUDA path would add its case here and move the module.
torch::Device PlaceInstance(int32_t kind, int32_t device_id) {
  if (kind == SERVAL_INSTANCE_CPU) return torch::Device(torch::kCPU);
  throw PluginError(SERVAL_UNIMPLEMENTED,
                    "the torch backend runs CPU instances only "
                    "(KIND_GPU requested, device " +
                        std::to_string(device_id) + ")");
}

// libtorch's intra-op pool is OpenMP in Debian's build (ATen parallel
// backend "OpenMP"). at::set_num_threads sets the calling thread's OpenMP
// team size (omp_set_num_threads is per thread in libgomp) and each
// calling thread gets its own team, so per-instance counts work when set on
// the thread that runs forward. Two details make it stick: ATen lazily
// re-initialises a thread's count to the process-wide last value the first
// time that thread parallelises, so get_num_threads() (which runs that
// lazy init inside libtorch) must come first; and the value is cached per
// thread so the common case costs one comparison.
void UseIntraOpThreads(int threads) {
  thread_local int current = 0;
  if (current == threads) return;
  at::get_num_threads();
  at::set_num_threads(threads);
  current = threads;
}

// The inter-op pool (used only by torch.jit.fork) is process-wide and can
// be sized once, before first use; later requests are logged and ignored.
void SetInterOpThreadsOnce(int threads, const ModelSpec& spec,
                           const ServalHostApi* host) {
  static std::mutex mu;
  static int set_to = 0;
  std::lock_guard<std::mutex> lock(mu);
  if (set_to == threads) return;
  std::string warning;
  if (set_to != 0) {
    warning = spec.Label() + ": inter_op_thread_count " +
              std::to_string(threads) + " ignored, the process-wide pool " +
              "already has " + std::to_string(set_to);
  } else {
    try {
      at::set_num_interop_threads(threads);
      set_to = threads;
      return;
    } catch (const c10::Error& e) {
      warning = spec.Label() + ": inter_op_thread_count ignored: " +
                e.what_without_backtrace();
    }
  }
  host->log(SERVAL_LOG_WARNING, __FILE__, __LINE__, warning.c_str());
}

// Says once per process which BLAS libtorch got (and, at debug level,
// libtorch's threading setup): the reference BLAS is the
// silent 10x slowdown of a misconfigured Debian machine.
void ReportBlasOnce(const ServalHostApi* host) {
  static std::once_flag once;
  std::call_once(once, [host] {
    const BlasReport report = ProbeBlas();
    host->log(report.is_warning ? SERVAL_LOG_WARNING : SERVAL_LOG_INFO,
              __FILE__, __LINE__, report.summary.c_str());
    host->log(SERVAL_LOG_DEBUG, __FILE__, __LINE__,
              at::get_parallel_info().c_str());
  });
}

}  // namespace

struct TorchModel::Loaded {
  torch::jit::Module module;
  // Looked up once; calling a Method is const and safe from many threads.
  c10::optional<torch::jit::Method> forward;
  // forward() argument names, self excluded.
  std::vector<std::string> argument_names;
  // Config input i goes to forward argument input_position[i].
  std::vector<size_t> input_position;
  // True when the positions are 0..n-1, so a plain positional call works;
  // otherwise arguments are passed by name (defaults fill the gaps).
  bool positional = true;
  std::vector<at::ScalarType> input_types;
  // Whether forward gives config input i's argument a default: an optional
  // input the batch lacks can then be left out of the call.
  std::vector<bool> input_has_default;
  // Config output i is value output_index[i] of forward's tensor, tuple or
  // list result (dictionaries are matched by output name instead).
  std::vector<size_t> output_index;
  std::vector<at::ScalarType> output_types;
};

namespace {

torch::jit::Module LoadModule(const ModelSpec& spec) {
  try {
    torch::jit::Module module = torch::jit::load(spec.model_file);
    module.eval();
    return module;
  } catch (const c10::Error& e) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "cannot load TorchScript file '" + spec.model_file +
                          "': " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw PluginError(
        SERVAL_INVALID_ARGUMENT,
        "cannot load TorchScript file '" + spec.model_file + "': " + e.what());
  }
}

// Binds config inputs to forward arguments: by argument name when every
// input is named after one, else by Triton's INPUT__<i> index, else in
// config order.
void BindInputs(const ModelSpec& spec, const c10::FunctionSchema& schema,
                TorchModel::Loaded* loaded) {
  const auto& args = schema.arguments();
  for (size_t i = 1; i < args.size(); ++i) {  // 0 is self
    loaded->argument_names.push_back(args[i].name());
  }
  const std::vector<std::string>& names = loaded->argument_names;
  const size_t n = spec.inputs.size();
  if (n > names.size()) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "the config declares " + std::to_string(n) +
                          " inputs but forward() takes " +
                          std::to_string(names.size()));
  }
  std::vector<size_t> by_name, by_index;
  for (const TensorSpec& input : spec.inputs) {
    auto it = std::find(names.begin(), names.end(), input.name);
    if (it != names.end()) by_name.push_back(it - names.begin());
    std::optional<int> index = ConventionIndex(input.name);
    if (index && static_cast<size_t>(*index) < names.size()) {
      by_index.push_back(*index);
    }
  }
  std::vector<size_t> positions(n);
  std::iota(positions.begin(), positions.end(), 0);
  if (by_name.size() == n) {
    positions = by_name;
  } else if (by_index.size() == n) {
    positions = by_index;
  }
  std::vector<bool> used(names.size(), false);
  for (size_t i = 0; i < n; ++i) {
    if (used[positions[i]]) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "inputs bind twice to forward argument '" +
                            names[positions[i]] + "'");
    }
    used[positions[i]] = true;
    const bool strings = spec.inputs[i].datatype == SERVAL_TYPE_BYTES;
    const c10::TypePtr& arg_type = args[positions[i] + 1].type();
    const c10::TypePtr wanted = strings ? c10::ListType::ofStrings()
                                        : c10::TypePtr(c10::TensorType::get());
    if (!wanted->isSubtypeOf(*arg_type)) {
      throw PluginError(
          SERVAL_INVALID_ARGUMENT,
          "input '" + spec.inputs[i].name + "' binds to forward argument '" +
              names[positions[i]] + "' of type " + arg_type->str() + ", not " +
              (strings ? "List[str] (it is BYTES)" : "a Tensor"));
    }
    loaded->input_has_default.push_back(
        args[positions[i] + 1].default_value().has_value());
    loaded->positional = loaded->positional && positions[i] == i;
  }
  for (size_t a = 0; a < names.size(); ++a) {
    if (!used[a] && !args[a + 1].default_value()) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "forward argument '" + names[a] +
                            "' has no default and no config input binds to it");
    }
  }
  loaded->input_position = std::move(positions);
  for (const TensorSpec& input : spec.inputs) {
    loaded->input_types.push_back(CheckedType(input, "input"));
  }
}

// Maps config outputs to forward's results (OUTPUT__<i> index, else config
// order) and checks the count against a declared Tensor or Tuple return.
void BindOutputs(const ModelSpec& spec, const c10::FunctionSchema& schema,
                 TorchModel::Loaded* loaded) {
  const size_t n = spec.outputs.size();
  std::vector<size_t> by_index;
  for (const TensorSpec& output : spec.outputs) {
    std::optional<int> index = ConventionIndex(output.name);
    if (index) by_index.push_back(*index);
    loaded->output_types.push_back(CheckedType(output, "output"));
  }
  loaded->output_index.resize(n);
  std::iota(loaded->output_index.begin(), loaded->output_index.end(), 0);
  if (by_index.size() == n) loaded->output_index = by_index;

  if (schema.returns().size() != 1) return;
  const c10::TypePtr& type = schema.returns()[0].type();
  size_t produced = 0;
  if (type->kind() == c10::TypeKind::TensorType ||
      type->isSubtypeOf(*c10::ListType::ofStrings())) {
    produced = 1;  // one tensor, or one BYTES output as List[str]
  } else if (type->kind() == c10::TypeKind::TupleType) {
    produced = type->expect<c10::TupleType>()->elements().size();
  } else {
    return;  // a list or dict: its length is known only when it runs
  }
  for (size_t i = 0; i < n; ++i) {
    if (loaded->output_index[i] >= produced) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "forward() returns " + std::to_string(produced) +
                            " value(s) but the config declares output '" +
                            spec.outputs[i].name + "' at position " +
                            std::to_string(loaded->output_index[i]));
    }
  }
}

}  // namespace

TorchModel::TorchModel(ModelSpec spec, std::unique_ptr<Loaded> loaded)
    : spec_(std::move(spec)), loaded_(std::move(loaded)) {}

TorchModel::~TorchModel() = default;

std::unique_ptr<TorchModel> TorchModel::Load(ModelSpec spec,
                                             const ServalHostApi* host) {
  const ThreadParameters threads = ReadThreadParameters(spec);
  if (threads.inter_op > 0) SetInterOpThreadsOnce(threads.inter_op, spec, host);
  auto loaded = std::make_unique<Loaded>();
  loaded->module = LoadModule(spec);
  ReportBlasOnce(host);
  loaded->forward = loaded->module.find_method("forward");
  if (!loaded->forward) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "the TorchScript module has no forward() method");
  }
  const c10::FunctionSchema& schema = loaded->forward->function().getSchema();
  BindInputs(spec, schema, loaded.get());
  BindOutputs(spec, schema, loaded.get());
  return std::unique_ptr<TorchModel>(
      new TorchModel(std::move(spec), std::move(loaded)));
}

struct TorchInstance::Placement {
  torch::Device device;
};

TorchInstance::TorchInstance(const TorchModel* model,
                             std::unique_ptr<Placement> placement,
                             int intra_op_threads, const ServalHostApi* host)
    : model_(model),
      placement_(std::move(placement)),
      intra_op_threads_(intra_op_threads),
      host_(host) {}

TorchInstance::~TorchInstance() = default;

std::unique_ptr<TorchInstance> TorchInstance::Create(
    const TorchModel* model, int32_t kind, int32_t device_id, uint32_t index,
    const ServalHostApi* host) {
  auto placement =
      std::make_unique<Placement>(Placement{PlaceInstance(kind, device_id)});
  const int threads = IntraOpThreadsPerInstance(model->spec(), AvailableCpus());
  SetOpenBlasThreads(threads);
  if (index == 0) {
    const std::string line = model->spec().Label() + ": " +
                             std::to_string(model->spec().instance_count) +
                             " instance(s), intra-op threads per instance: " +
                             std::to_string(threads);
    host->log(SERVAL_LOG_INFO, __FILE__, __LINE__, line.c_str());
  }
  return std::unique_ptr<TorchInstance>(
      new TorchInstance(model, std::move(placement), threads, host));
}

namespace {

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + ts.tv_nsec;
}

// Wraps one host input without copying. The memory is the request's;
// a model that writes into its inputs in place would write into it.
at::Tensor WrapInput(const ModelSpec& spec, const TensorSpec& declared,
                     at::ScalarType type, const ServalTensor& tensor,
                     const torch::Device& device) {
  if (tensor.datatype != declared.datatype) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      spec.Label() + ": input '" + declared.name +
                          "' expected " + DataTypeName(declared.datatype) +
                          ", got " + DataTypeName(tensor.datatype));
  }
  std::vector<int64_t> shape(tensor.shape, tensor.shape + tensor.rank);
  const int64_t elements = std::accumulate(shape.begin(), shape.end(),
                                           int64_t{1}, std::multiplies<>());
  const uint64_t expected = elements * c10::elementSize(type);
  if (tensor.byte_size != expected) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      spec.Label() + ": input '" + declared.name +
                          "' of shape " + ShapeText(shape) + " needs " +
                          std::to_string(expected) + " bytes, got " +
                          std::to_string(tensor.byte_size));
  }
  at::Tensor wrapped = torch::from_blob(const_cast<void*>(tensor.data), shape,
                                        torch::TensorOptions().dtype(type));
  return wrapped.to(device);
}

// The client-facing part of a libtorch error: c10::Error without its C++
// backtrace; for TorchScript interpreter errors, the final
// "RuntimeError: ..." line rather than the whole script traceback.
std::string ErrorSummary(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.find("Traceback of TorchScript") != std::string::npos) {
    const size_t last = text.rfind('\n');
    if (last != std::string::npos) text = text.substr(last + 1);
  }
  return text;
}

// A serialized BYTES input (4-byte little-endian length, then the bytes,
// per element) as the List[str] TorchScript takes; bytes that are not
// UTF-8 pass through unchanged.
c10::List<std::string> WrapStrings(const ModelSpec& spec,
                                   const TensorSpec& declared,
                                   const ServalTensor& tensor) {
  if (tensor.datatype != SERVAL_TYPE_BYTES) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      spec.Label() + ": input '" + declared.name +
                          "' expected BYTES, got " +
                          DataTypeName(tensor.datatype));
  }
  c10::List<std::string> list;
  const char* data = static_cast<const char*>(tensor.data);
  uint64_t pos = 0;
  while (pos < tensor.byte_size) {
    uint32_t length = 0;
    if (tensor.byte_size - pos < 4) break;
    std::memcpy(&length, data + pos, 4);
    pos += 4;
    if (length > tensor.byte_size - pos) break;
    list.push_back(std::string(data + pos, length));
    pos += length;
  }
  if (pos != tensor.byte_size) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      spec.Label() + ": input '" + declared.name +
                          "' is not a well-formed BYTES tensor");
  }
  return list;
}

// A list of str is one BYTES output, not a list of outputs.
bool IsStringList(const c10::IValue& value) {
  return value.isList() &&
         value.type()->isSubtypeOf(*c10::ListType::ofStrings());
}

// Forward's result as one value per config output, in output order.
std::vector<c10::IValue> ResultValues(const ModelSpec& spec,
                                      const TorchModel::Loaded& loaded,
                                      const c10::IValue& result) {
  std::vector<c10::IValue> values;
  if (result.isTensor() || IsStringList(result)) {
    values.push_back(result);
  } else if (result.isTuple()) {
    const auto& elements = result.toTupleRef().elements();
    values.assign(elements.begin(), elements.end());
  } else if (result.isList()) {
    const auto list = result.toListRef();
    values.assign(list.begin(), list.end());
  } else if (result.isGenericDict()) {
    const c10::impl::GenericDict dict = result.toGenericDict();
    std::vector<c10::IValue> out;
    for (const TensorSpec& output : spec.outputs) {
      auto it = dict.find(c10::IValue(output.name));
      if (it == dict.end()) {
        throw PluginError(SERVAL_INTERNAL, spec.Label() +
                                               ": forward() returned a dict "
                                               "without an entry named '" +
                                               output.name + "'");
      }
      out.push_back(it->value());
    }
    return out;
  } else {
    throw PluginError(SERVAL_INTERNAL,
                      spec.Label() + ": forward() returned " +
                          result.tagKind() +
                          "; expected a Tensor, a tuple or a list of "
                          "tensors");
  }
  std::vector<c10::IValue> out;
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    const size_t index = loaded.output_index[i];
    if (index >= values.size()) {
      throw PluginError(SERVAL_INTERNAL,
                        spec.Label() + ": forward() returned " +
                            std::to_string(values.size()) +
                            " value(s); output '" + spec.outputs[i].name +
                            "' needs one at position " + std::to_string(index));
    }
    out.push_back(values[index]);
  }
  return out;
}

// Checks the produced value's kind and datatype. The shape is the host's
// to check (batch_output_buffer), since only the host applies the config's
// reshape.
void CheckOutput(const ModelSpec& spec, const TensorSpec& declared,
                 at::ScalarType type, const c10::IValue& value) {
  if (declared.datatype == SERVAL_TYPE_BYTES) {
    if (!IsStringList(value)) {
      throw PluginError(SERVAL_INTERNAL,
                        spec.Label() + ": output '" + declared.name +
                            "' is declared BYTES but the model produced " +
                            value.type()->str() + ", not List[str]");
    }
    return;
  }
  if (!value.isTensor()) {
    throw PluginError(SERVAL_INTERNAL, spec.Label() + ": output '" +
                                           declared.name +
                                           "' needs a tensor but the model "
                                           "produced " +
                                           value.type()->str());
  }
  const at::Tensor& tensor = value.toTensor();
  if (tensor.scalar_type() != type) {
    throw PluginError(SERVAL_INTERNAL, spec.Label() + ": output '" +
                                           declared.name + "' is declared " +
                                           DataTypeName(declared.datatype) +
                                           " but the model produced " +
                                           TypeName(tensor.scalar_type()));
  }
}

// The arguments of one forward() call, built from the batch's inputs.
struct ForwardCall {
  std::vector<c10::IValue> args;
  std::unordered_map<std::string, c10::IValue> kwargs;
  // First dimension of the batch's inputs (a batching model), for the
  // shape of BYTES outputs; -1 when no input says.
  int64_t batch_size = -1;
};

ForwardCall BuildCall(const ServalHostApi* host, ServalBatch* batch,
                      const ModelSpec& spec, const TorchModel::Loaded& loaded,
                      const torch::Device& device) {
  const ServalTensor* inputs = nullptr;
  uint32_t input_count = 0;
  CheckHost(host->batch_inputs(batch, &inputs, &input_count));
  std::vector<c10::IValue> values(spec.inputs.size());
  bool all_present = true;
  ForwardCall call;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    const TensorSpec& declared = spec.inputs[i];
    const ServalTensor* found = nullptr;
    for (uint32_t k = 0; k < input_count && found == nullptr; ++k) {
      if (inputs[k].name != nullptr && declared.name == inputs[k].name) {
        found = &inputs[k];
      }
    }
    if (found == nullptr) {
      // An optional input the requests left out: forward's default.
      if (!loaded.input_has_default[i]) {
        throw PluginError(SERVAL_INVALID_ARGUMENT,
                          spec.Label() + ": the batch lacks input '" +
                              declared.name + "' and forward argument '" +
                              loaded.argument_names[loaded.input_position[i]] +
                              "' has no default");
      }
      all_present = false;
      continue;
    }
    if (spec.max_batch_size > 0 && found->rank > 0 && call.batch_size < 0) {
      call.batch_size = found->shape[0];
    }
    if (declared.datatype == SERVAL_TYPE_BYTES) {
      values[i] = WrapStrings(spec, declared, *found);
    } else {
      values[i] =
          WrapInput(spec, declared, loaded.input_types[i], *found, device);
    }
  }
  if (loaded.positional && all_present) {
    call.args = std::move(values);
    return call;
  }
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    if (values[i].isNone()) continue;
    call.kwargs[loaded.argument_names[loaded.input_position[i]]] =
        std::move(values[i]);
  }
  return call;
}

// Serializes a List[str] output and gives its shape: [batch, n / batch] for
// a batching model, else [n].
void WriteStrings(const ServalHostApi* host, ServalBatch* batch,
                  const ModelSpec& spec, const TensorSpec& declared,
                  const c10::IValue& value, int64_t batch_size) {
  const c10::List<std::string> list =
      c10::impl::toTypedList<std::string>(value.toList());
  std::string serialized;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string element = list.get(i);
    const uint32_t length = static_cast<uint32_t>(element.size());
    serialized.append(reinterpret_cast<const char*>(&length), 4);
    serialized.append(element);
  }
  const int64_t n = static_cast<int64_t>(list.size());
  std::vector<int64_t> shape{n};
  if (spec.max_batch_size > 0) {
    const int64_t b =
        batch_size > 0 ? batch_size
                       : static_cast<int64_t>(host->batch_request_count(batch));
    if (n % b != 0) {
      throw PluginError(SERVAL_INTERNAL,
                        spec.Label() + ": output '" + declared.name + "' has " +
                            std::to_string(n) +
                            " strings, not a multiple of the batch of " +
                            std::to_string(b));
    }
    shape = {b, n / b};
  }
  void* buffer = nullptr;
  CheckHost(host->batch_output_buffer(
      batch, declared.name.c_str(), SERVAL_TYPE_BYTES, shape.data(),
      static_cast<uint32_t>(shape.size()), serialized.size(), &buffer));
  if (!serialized.empty()) {
    std::memcpy(buffer, serialized.data(), serialized.size());
  }
}

// Copies each requested output, once, into the buffer the host allocates.
void WriteOutputs(const ServalHostApi* host, ServalBatch* batch,
                  const ModelSpec& spec, const TorchModel::Loaded& loaded,
                  const std::vector<c10::IValue>& outputs, int64_t batch_size) {
  const char* const* requested = nullptr;
  uint32_t requested_count = 0;
  CheckHost(host->batch_requested_outputs(batch, &requested, &requested_count));
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    const TensorSpec& declared = spec.outputs[i];
    bool wanted = false;
    for (uint32_t r = 0; r < requested_count && !wanted; ++r) {
      wanted = requested[r] != nullptr && declared.name == requested[r];
    }
    if (!wanted) continue;
    CheckOutput(spec, declared, loaded.output_types[i], outputs[i]);
    if (declared.datatype == SERVAL_TYPE_BYTES) {
      WriteStrings(host, batch, spec, declared, outputs[i], batch_size);
      continue;
    }
    const at::Tensor host_tensor =
        outputs[i].toTensor().to(torch::kCPU).contiguous();
    const uint64_t bytes = host_tensor.numel() * host_tensor.element_size();
    void* buffer = nullptr;
    CheckHost(host->batch_output_buffer(
        batch, declared.name.c_str(), declared.datatype,
        host_tensor.sizes().data(), host_tensor.dim(), bytes, &buffer));
    if (bytes > 0) std::memcpy(buffer, host_tensor.data_ptr(), bytes);
  }
}

}  // namespace

void TorchInstance::Execute(ServalBatch* batch) {
  const ModelSpec& spec = model_->spec();
  const TorchModel::Loaded& loaded = model_->loaded();
  UseIntraOpThreads(intra_op_threads_);
  c10::InferenceMode inference_mode;

  ForwardCall call = BuildCall(host_, batch, spec, loaded, placement_->device);
  const uint64_t input_end = NowNs();
  c10::IValue result;
  try {
    result = (*loaded.forward)(std::move(call.args), call.kwargs);
  } catch (const std::exception& e) {
    host_->log(SERVAL_LOG_DEBUG, __FILE__, __LINE__, e.what());
    throw PluginError(SERVAL_INTERNAL,
                      spec.Label() + ": forward() failed: " + ErrorSummary(e));
  }
  const std::vector<c10::IValue> outputs = ResultValues(spec, loaded, result);
  const uint64_t infer_end = NowNs();
  WriteOutputs(host_, batch, spec, loaded, outputs, call.batch_size);
  host_->batch_report_times(batch, input_end, infer_end);
}

}  // namespace serval::torch_backend
