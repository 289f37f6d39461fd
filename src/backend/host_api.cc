// The functions serval offers plugins (ServalHostApi). Each entry is a thin
// C shim over HostBatch or the logger; none may throw.
#include <string>

#include "absl/status/status.h"
#include "backend/backend_library.h"
#include "backend/host_batch.h"
#include "common/status_map.h"
#include "spdlog/spdlog.h"

struct ServalError {
  absl::Status status;
};

namespace serval {
namespace {

ServalError* NewError(int32_t code, const char* message) {
  absl::StatusCode c = CodeFromInt(code);
  if (c == absl::StatusCode::kOk) c = absl::StatusCode::kUnknown;
  return new ServalError{absl::Status(c, message ? message : "")};
}

ServalError* FromStatus(absl::Status s) {
  if (s.ok()) return nullptr;
  return new ServalError{std::move(s)};
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
