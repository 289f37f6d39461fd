#include "ort_common.h"

#include <exception>
#include <mutex>

namespace serval::ort {
namespace {

const ServalHostApi* g_host = nullptr;

// ORT's severities map onto the host's levels; VERBOSE folds into DEBUG and
// FATAL into ERROR.
void ForwardOrtLog(void* /*param*/, OrtLoggingLevel severity,
                   const char* category, const char* /*logid*/,
                   const char* code_location, const char* message) {
  ServalLogLevel level = SERVAL_LOG_DEBUG;
  if (severity >= ORT_LOGGING_LEVEL_ERROR) {
    level = SERVAL_LOG_ERROR;
  } else if (severity == ORT_LOGGING_LEVEL_WARNING) {
    level = SERVAL_LOG_WARNING;
  } else if (severity == ORT_LOGGING_LEVEL_INFO) {
    level = SERVAL_LOG_INFO;
  }
  Log(level, std::string("onnxruntime [") + category + "] " + message + " (" +
                 code_location + ")");
}

}  // namespace

void SetHost(const ServalHostApi* host) { g_host = host; }
const ServalHostApi& Host() { return *g_host; }

ServalError* CurrentExceptionToError(const std::string& context) {
  ServalCode code = SERVAL_INTERNAL;
  std::string message;
  try {
    throw;
  } catch (const Ort::Exception& e) {
    // ORT's codes: INVALID_ARGUMENT, NO_SUCHFILE, INVALID_PROTOBUF... are
    // the caller's problem; the rest are ours.
    switch (e.GetOrtErrorCode()) {
      case ORT_INVALID_ARGUMENT:
      case ORT_INVALID_GRAPH:
      case ORT_INVALID_PROTOBUF:
      case ORT_NO_MODEL:
        code = SERVAL_INVALID_ARGUMENT;
        break;
      case ORT_NO_SUCHFILE:
        code = SERVAL_NOT_FOUND;
        break;
      case ORT_NOT_IMPLEMENTED:
        code = SERVAL_UNIMPLEMENTED;
        break;
      default:
        code = SERVAL_INTERNAL;
    }
    message = std::string("onnxruntime: ") + e.what();
  } catch (...) {
    return backend_util::ErrorFromCurrent(Host(), context);
  }
  if (!context.empty()) message = context + ": " + message;
  return Host().error_new(code, message.c_str());
}

void Log(ServalLogLevel level, const std::string& message) {
  backend_util::Log(g_host, level, message);
}

Ort::Env& Env() {
  // Never destroyed: ORT's environment must outlive every session, and
  // sessions may be released by the host during process exit.
  static Ort::Env* env =
      new Ort::Env(ORT_LOGGING_LEVEL_WARNING, "serval", ForwardOrtLog, nullptr);
  return *env;
}

std::optional<ServalDataType> FromOnnx(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
      return SERVAL_TYPE_BOOL;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
      return SERVAL_TYPE_UINT8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16:
      return SERVAL_TYPE_UINT16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32:
      return SERVAL_TYPE_UINT32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64:
      return SERVAL_TYPE_UINT64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
      return SERVAL_TYPE_INT8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16:
      return SERVAL_TYPE_INT16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      return SERVAL_TYPE_INT32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      return SERVAL_TYPE_INT64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
      return SERVAL_TYPE_FP16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      return SERVAL_TYPE_FP32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
      return SERVAL_TYPE_FP64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16:
      return SERVAL_TYPE_BF16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING:
      return SERVAL_TYPE_BYTES;
    default:
      return std::nullopt;  // complex, fp8, int4...
  }
}

ONNXTensorElementDataType ToOnnx(ServalDataType type) {
  switch (type) {
    case SERVAL_TYPE_BOOL:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
    case SERVAL_TYPE_UINT8:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case SERVAL_TYPE_UINT16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16;
    case SERVAL_TYPE_UINT32:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32;
    case SERVAL_TYPE_UINT64:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64;
    case SERVAL_TYPE_INT8:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case SERVAL_TYPE_INT16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16;
    case SERVAL_TYPE_INT32:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case SERVAL_TYPE_INT64:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case SERVAL_TYPE_FP16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case SERVAL_TYPE_FP32:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case SERVAL_TYPE_FP64:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    case SERVAL_TYPE_BF16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16;
    case SERVAL_TYPE_BYTES:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING;
    default:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  }
}

const char* OnnxTypeName(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX64:
      return "complex64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX128:
      return "complex128";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED:
      return "undefined";
    default: {
      const auto serval_type = FromOnnx(type);
      return serval_type ? ApiTypeName(*serval_type) : "an unsupported type";
    }
  }
}

}  // namespace serval::ort
