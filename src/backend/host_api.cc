// The functions serval offers plugins (ServalHostApi). Each entry is a thin
// C shim over HostBatch or the logger; none may throw.
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "backend/backend_library.h"
#include "backend/host_batch.h"
#include "common/status_map.h"
#include "spdlog/spdlog.h"

struct ServalError {
  absl::Status status;
  // error_message's NUL-terminated copy of the message.
  mutable std::string text;
};

namespace serval {
namespace {

ServalError* NewError(int32_t code, const char* message) {
  absl::StatusCode c = CodeFromInt(code);
  if (c == absl::StatusCode::kOk) c = absl::StatusCode::kUnknown;
  return new ServalError{absl::Status(c, message ? message : ""), {}};
}

ServalError* FromStatus(absl::Status s) {
  if (s.ok()) return nullptr;
  return new ServalError{std::move(s), {}};
}

void Log(int32_t level, const char* file, int32_t line, const char* message) {
  spdlog::level::level_enum l = spdlog::level::info;
  switch (level) {
    case SERVAL_LOG_DEBUG:
      l = spdlog::level::debug;
      break;
    case SERVAL_LOG_WARNING:
      l = spdlog::level::warn;
      break;
    case SERVAL_LOG_ERROR:
      l = spdlog::level::err;
      break;
    default:
      break;
  }
  spdlog::log(l, "[backend {}:{}] {}", file ? file : "?", line,
              message ? message : "");
}

uint32_t RequestCount(ServalBatch* b) {
  return HostBatch::FromAbi(b)->request_count();
}

ServalError* Inputs(ServalBatch* b, const ServalTensor** inputs,
                    uint32_t* count) {
  if (inputs == nullptr || count == nullptr) {
    return NewError(SERVAL_INVALID_ARGUMENT, "batch_inputs: null argument");
  }
  HostBatch::FromAbi(b)->Inputs(inputs, count);
  return nullptr;
}

ServalError* RequestedOutputs(ServalBatch* b, const char* const** names,
                              uint32_t* count) {
  if (names == nullptr || count == nullptr) {
    return NewError(SERVAL_INVALID_ARGUMENT,
                    "batch_requested_outputs: null argument");
  }
  HostBatch::FromAbi(b)->RequestedOutputs(names, count);
  return nullptr;
}

ServalError* OutputBuffer(ServalBatch* b, const char* name, int32_t datatype,
                          const int64_t* shape, uint32_t rank,
                          uint64_t byte_size, void** buffer) {
  try {
    return FromStatus(HostBatch::FromAbi(b)->OutputBuffer(
        name, datatype, shape, rank, byte_size, buffer));
  } catch (const std::bad_alloc&) {
    return NewError(SERVAL_RESOURCE_EXHAUSTED,
                    "out of memory allocating an output buffer");
  }
}

void ReportTimes(ServalBatch* b, uint64_t input_end_ns, uint64_t infer_end_ns) {
  HostBatch::FromAbi(b)->ReportTimes(input_end_ns, infer_end_ns);
}

void Complete(ServalBatch* b, ServalError* error) {
  absl::Status s = TakeError(error);
  HostBatch::FromAbi(b)->Complete(std::move(s));
}

uint64_t RequestItems(ServalBatch* b, uint32_t index) {
  return HostBatch::FromAbi(b)->RequestItems(index);
}

void RequestFail(ServalBatch* b, uint32_t index, ServalError* error) {
  absl::Status s = TakeError(error);
  if (s.ok()) s = absl::UnknownError("batch_request_fail without an error");
  HostBatch::FromAbi(b)->FailRequest(index, std::move(s));
}

const char* RequestId(ServalBatch* b, uint32_t index) {
  return HostBatch::FromAbi(b)->RequestId(index);
}

uint64_t RequestTimeoutUs(ServalBatch* b, uint32_t index) {
  return HostBatch::FromAbi(b)->RequestTimeoutUs(index);
}

uint64_t DeadlineNs(ServalBatch* b) {
  return HostBatch::FromAbi(b)->DeadlineNs();
}

// Answers one host->infer call: the response's outputs as ABI tensors for
// the callback's duration, then deletes itself.
class AbiCompletion final : public InferCompletion {
 public:
  AbiCompletion(ServalInferCallback done, void* context)
      : done_(done), context_(context) {}

  void OnInferComplete(InferenceResponse response) override {
    if (!response.status.ok()) {
      ServalError error{std::move(response.status), {}};
      done_(context_, &error, nullptr, 0);
      delete this;
      return;
    }
    std::vector<ServalTensor> outputs;
    outputs.reserve(response.outputs.size());
    for (const OutputTensor& o : response.outputs) {
      outputs.push_back({o.name.c_str(), static_cast<int32_t>(o.datatype),
                         o.shape.data(), static_cast<uint32_t>(o.shape.size()),
                         o.data.data(), o.data.size()});
    }
    done_(context_, nullptr, outputs.data(),
          static_cast<uint32_t>(outputs.size()));
    delete this;
  }

 private:
  ServalInferCallback done_;
  void* context_;
};

void Infer(ServalBatch* b, const ServalInferRequest* r,
           ServalInferCallback done, void* context) {
  auto* completion = new AbiCompletion(done, context);
  InferenceResponse refused;
  ModelCaller* caller =
      b != nullptr ? HostBatch::FromAbi(b)->caller() : nullptr;
  if (r == nullptr || r->model_name == nullptr) {
    refused.status = absl::InvalidArgumentError("infer: no model named");
  } else if (caller == nullptr) {
    refused.status = absl::UnavailableError(
        "infer: this server cannot dispatch requests from a backend");
  }
  if (!refused.status.ok()) {
    completion->OnInferComplete(std::move(refused));
    return;
  }
  InferenceRequest request;
  try {
    request.model_name = r->model_name;
    request.model_version = r->model_version;
    if (r->request_id != nullptr) request.id = r->request_id;
    request.timeout_us = r->timeout_us;
    if (r->parameters_json != nullptr)
      request.parameters_json = r->parameters_json;
    // The request owns copies of the inputs: the caller's memory may go
    // as soon as infer returns.
    request.owned_data.reserve(r->input_count);
    for (uint32_t i = 0; i < r->input_count; ++i) {
      const ServalTensor& t = r->inputs[i];
      TensorBuffer& copy = request.owned_data.emplace_back(t.byte_size);
      if (t.byte_size > 0) std::memcpy(copy.data(), t.data, t.byte_size);
      TensorView v;
      v.name = t.name != nullptr ? t.name : "";
      v.datatype = DataTypeFromInt(t.datatype).value_or(DataType::kInvalid);
      v.shape.assign(t.shape, t.shape + t.rank);
      v.data = copy.data();
      v.byte_size = t.byte_size;
      request.inputs.push_back(std::move(v));
    }
    for (uint32_t i = 0; i < r->output_count; ++i) {
      request.requested_outputs.emplace_back(r->outputs[i]);
    }
  } catch (const std::bad_alloc&) {
    refused.status = absl::ResourceExhaustedError("infer: out of memory");
    completion->OnInferComplete(std::move(refused));
    return;
  }
  const std::string model = request.model_name;
  caller->Call(model, request.model_version, std::move(request), completion);
}

const char* RequestParameters(ServalBatch* b, uint32_t index) {
  return HostBatch::FromAbi(b)->RequestParameters(index);
}

int32_t ErrorCode(const ServalError* e) {
  return e != nullptr ? static_cast<int32_t>(e->status.code()) : SERVAL_OK;
}

const char* ErrorMessage(const ServalError* e) {
  if (e == nullptr) return "";
  e->text = std::string(e->status.message());
  return e->text.c_str();
}

const ServalHostApi kHostApi = {
    sizeof(ServalHostApi),
    SERVAL_BACKEND_ABI_MAJOR,
    SERVAL_BACKEND_ABI_MINOR,
    &NewError,
    &Log,
    &RequestCount,
    &Inputs,
    &RequestedOutputs,
    &OutputBuffer,
    &ReportTimes,
    &Complete,
    &RequestItems,
    &RequestFail,
    &RequestId,
    &RequestTimeoutUs,
    &DeadlineNs,
    &Infer,
    &RequestParameters,
    &ErrorCode,
    &ErrorMessage,
};

}  // namespace

const ServalHostApi* HostApi() { return &kHostApi; }

absl::Status TakeError(ServalError* error) {
  if (error == nullptr) return absl::OkStatus();
  absl::Status s = std::move(error->status);
  delete error;
  return s;
}

}  // namespace serval
