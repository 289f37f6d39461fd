// identity backend: output i is a copy of input i (same shape, same
// datatype; BYTES tensors are copied in their serialized form). It exists to
// test the server without a framework: parameter "delay_us" makes every
// execute() sleep that many microseconds first, so tests can fill queues and
// observe batching; parameter "fail_first_byte" (0-255) fails, alone, each
// request of a batch whose first input starts with that byte (fixed-size
// datatypes), so tests can see one request fail without its batch.
//
// Built against include/serval/backend.h alone. No exception leaves an ABI
// function: each one catches and turns failures into ServalErrors.
// Thread-safety: the model state is immutable once created, and an instance
// holds no state of its own, so concurrent execute() calls on different
// instances are safe.

#include <stdint.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "serval/backend.h"
#include "serval/backend_util.h"

namespace {

const ServalHostApi* g_host = nullptr;

struct OutputPlan {
  std::string output_name;
  std::string input_name;  // The model input at the same position.
  int32_t datatype;
};

}  // namespace

// The ABI declares these opaque; the backend gives them their content.
struct ServalModelState {
  std::string name;
  std::vector<OutputPlan> outputs;
  std::chrono::microseconds delay{0};
  int fail_first_byte = -1;  // -1: never
};

struct ServalInstanceState {
  const ServalModelState* model;
};

namespace {

ServalError* Error(int32_t code, const std::string& message) {
  return g_host->error_new(code, message.c_str());
}

// Reports an exception escaping our code as an error instead of letting it
// cross the C boundary.
ServalError* FromCurrentException() {
  return serval::backend_util::ErrorFromCurrent(*g_host, "identity backend");
}

// Parses a non-negative decimal integer; false on anything else.
bool ParseMicros(const char* text, int64_t* out) {
  if (text == nullptr || *text == '\0') return false;
  int64_t value = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
    if (value > (INT64_MAX - (*p - '0')) / 10) return false;
    value = value * 10 + (*p - '0');
  }
  *out = value;
  return true;
}

std::string TypeName(int32_t datatype) {
  return serval::backend_util::ApiTypeName(datatype);
}

std::string Quote(const char* s) {
  return std::string("'") + (s != nullptr ? s : "") + "'";
}

ServalError* ModelCreate(const ServalModelInfo* info,
                         ServalModelState** model) {
  try {
    *model = nullptr;
    auto state = std::make_unique<ServalModelState>();
    state->name = info->name != nullptr ? info->name : "";
    const std::string prefix = "identity model '" + state->name + "': ";
    if (info->output_count > info->input_count) {
      return Error(SERVAL_INVALID_ARGUMENT,
                   prefix + "has " + std::to_string(info->output_count) +
                       " outputs but only " +
                       std::to_string(info->input_count) +
                       " inputs; output i copies input i");
    }
    for (uint32_t i = 0; i < info->output_count; ++i) {
      const ServalTensorSpec& in = info->inputs[i];
      const ServalTensorSpec& out = info->outputs[i];
      if (in.datatype != out.datatype) {
        return Error(SERVAL_INVALID_ARGUMENT,
                     prefix + "output " + Quote(out.name) + " (position " +
                         std::to_string(i) + ") is " + TypeName(out.datatype) +
                         " but input " + Quote(in.name) + " is " +
                         TypeName(in.datatype) +
                         "; output i must have the datatype of input i");
      }
      state->outputs.push_back({out.name, in.name, out.datatype});
    }
    for (uint32_t i = 0; i < info->parameter_count; ++i) {
      const ServalParameter& p = info->parameters[i];
      if (p.key != nullptr && std::strcmp(p.key, "fail_first_byte") == 0) {
        int64_t byte = 0;
        if (!ParseMicros(p.value, &byte) || byte > 255) {
          return Error(SERVAL_INVALID_ARGUMENT,
                       prefix +
                           "parameter fail_first_byte must be 0-255, "
                           "got " +
                           Quote(p.value));
        }
        state->fail_first_byte = static_cast<int>(byte);
        continue;
      }
      if (p.key == nullptr || std::strcmp(p.key, "delay_us") != 0) continue;
      int64_t micros = 0;
      if (!ParseMicros(p.value, &micros)) {
        return Error(SERVAL_INVALID_ARGUMENT,
                     prefix +
                         "parameter delay_us must be a non-negative "
                         "integer (microseconds), got " +
                         Quote(p.value));
      }
      state->delay = std::chrono::microseconds(micros);
    }
    g_host->log(SERVAL_LOG_DEBUG, __FILE__, __LINE__,
                (prefix + "created, delay " +
                 std::to_string(state->delay.count()) + " us")
                    .c_str());
    *model = state.release();
    return nullptr;
  } catch (...) {
    return FromCurrentException();
  }
}

void ModelDestroy(ServalModelState* model) { delete model; }

ServalError* InstanceCreate(ServalModelState* model, int32_t kind,
                            int32_t device_id, uint32_t instance_index,
                            ServalInstanceState** instance) {
  try {
    *instance = new ServalInstanceState{model};
    return nullptr;
  } catch (...) {
    return FromCurrentException();
  }
}

void InstanceDestroy(ServalInstanceState* instance) { delete instance; }

const OutputPlan* FindOutput(const ServalModelState& model, const char* name) {
  for (const OutputPlan& plan : model.outputs) {
    if (plan.output_name == name) return &plan;
  }
  return nullptr;
}

// Copies every requested output; returns the first error.
ServalError* CopyOutputs(const ServalModelState& model, ServalBatch* batch) {
  const ServalTensor* inputs = nullptr;
  uint32_t input_count = 0;
  if (ServalError* e = g_host->batch_inputs(batch, &inputs, &input_count)) {
    return e;
  }
  const char* const* names = nullptr;
  uint32_t name_count = 0;
  if (ServalError* e =
          g_host->batch_requested_outputs(batch, &names, &name_count)) {
    return e;
  }
  const std::string prefix = "identity model '" + model.name + "': ";
  for (uint32_t n = 0; n < name_count; ++n) {
    const OutputPlan* plan = FindOutput(model, names[n]);
    if (plan == nullptr) {
      return Error(SERVAL_INVALID_ARGUMENT,
                   prefix + "unknown output " + Quote(names[n]));
    }
    const ServalTensor* source = nullptr;
    for (uint32_t i = 0; i < input_count; ++i) {
      if (inputs[i].name != nullptr && plan->input_name == inputs[i].name) {
        source = &inputs[i];
      }
    }
    if (source == nullptr) {
      return Error(SERVAL_INVALID_ARGUMENT,
                   prefix + "output '" + plan->output_name +
                       "' copies input '" + plan->input_name +
                       "', which the request did not provide");
    }
    void* buffer = nullptr;
    if (ServalError* e = g_host->batch_output_buffer(
            batch, names[n], plan->datatype, source->shape, source->rank,
            source->byte_size, &buffer)) {
      return e;
    }
    if (source->byte_size > 0) {
      std::memcpy(buffer, source->data, source->byte_size);
    }
  }
  return nullptr;
}

// fail_first_byte: fails the requests whose first input starts with it.
void FailMarkedRequests(const ServalModelState& model, ServalBatch* batch) {
  if (model.fail_first_byte < 0 ||
      !SERVAL_HOST_HAS(g_host, batch_request_fail)) {
    return;
  }
  const ServalTensor* inputs = nullptr;
  uint32_t count = 0;
  if (ServalError* e = g_host->batch_inputs(batch, &inputs, &count)) {
    // Not reached (CopyOutputs read them); an index out of range frees it.
    g_host->batch_request_fail(batch, UINT32_MAX, e);
    return;
  }
  if (count == 0 || inputs[0].datatype == SERVAL_TYPE_BYTES) return;
  const uint32_t requests = g_host->batch_request_count(batch);
  uint64_t items = 0;
  for (uint32_t r = 0; r < requests; ++r) {
    items += g_host->batch_request_items(batch, r);
  }
  if (items == 0) return;
  const uint64_t per_item = inputs[0].byte_size / items;
  const auto* bytes = static_cast<const unsigned char*>(inputs[0].data);
  uint64_t offset = 0;
  for (uint32_t r = 0; r < requests; ++r) {
    if (offset < inputs[0].byte_size &&
        bytes[offset] == static_cast<unsigned char>(model.fail_first_byte)) {
      g_host->batch_request_fail(
          batch, r,
          g_host->error_new(
              SERVAL_INVALID_ARGUMENT,
              ("identity model '" + model.name +
               "': this request's first byte is " +
               std::to_string(model.fail_first_byte) + " (fail_first_byte)")
                  .c_str()));
    }
    offset += per_item * g_host->batch_request_items(batch, r);
  }
}

void Execute(ServalInstanceState* instance, ServalBatch* batch) {
  ServalError* error = nullptr;
  try {
    const ServalModelState& model = *instance->model;
    if (model.delay.count() > 0) std::this_thread::sleep_for(model.delay);
    error = CopyOutputs(model, batch);
    if (error == nullptr) FailMarkedRequests(model, batch);
  } catch (...) {
    error = FromCurrentException();
  }
  g_host->batch_complete(batch, error);
}

constexpr ServalBackendApi kApi = {
    sizeof(ServalBackendApi),
    SERVAL_BACKEND_ABI_MAJOR,
    SERVAL_BACKEND_ABI_MINOR,
    "identity",
    /*model_autocomplete=*/nullptr,  // Nothing to infer from a model file.
    ModelCreate,
    ModelDestroy,
    InstanceCreate,
    InstanceDestroy,
    Execute,
};

// The last host function this backend calls; a host table shorter than this
// predates it.
constexpr size_t kHostTableNeeded =
    offsetof(ServalHostApi, batch_complete) + sizeof(g_host->batch_complete);

}  // namespace

extern "C" SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
    const ServalHostApi* host) {
  if (host == nullptr || host->abi_major != SERVAL_BACKEND_ABI_MAJOR ||
      host->struct_size < kHostTableNeeded) {
    return nullptr;
  }
  g_host = host;
  return &kApi;
}
