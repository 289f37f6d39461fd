// Shared pieces of the ONNX Runtime plugin: the host table, the one error
// path (PluginError from serval/backend_util.h, and ORT's own exceptions,
// turned into a ServalError at the ABI boundary), the process-wide Ort::Env
// and datatype mapping between ONNX and serval.
//
// The ORT C++ API reports failures by throwing Ort::Exception, so the plugin
// uses exceptions internally too; every ABI function catches everything
// (ToServalError) so nothing crosses the boundary.
#ifndef SERVAL_BACKENDS_ONNXRUNTIME_ORT_COMMON_H_
#define SERVAL_BACKENDS_ONNXRUNTIME_ORT_COMMON_H_

#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "serval/backend.h"
#include "serval/backend_util.h"

namespace serval::ort {

using backend_util::ApiTypeName;
using backend_util::AvailableCpus;
using backend_util::ConfigTypeName;
using backend_util::DimsToString;
using backend_util::ElementSize;
using backend_util::PluginError;

// The host's table, set once by the entry point before anything else runs.
void SetHost(const ServalHostApi* host);
const ServalHostApi& Host();

// Converts the exception being handled (call only inside catch) into a
// host error; `context` prefixes the message (e.g. "model 'mlp' version 1").
ServalError* CurrentExceptionToError(const std::string& context);

void Log(ServalLogLevel level, const std::string& message);

// The process-wide ORT environment (created on first use; its log messages
// go to the host's log).
Ort::Env& Env();

// ONNX element type <-> serval datatype; nullopt when serval has no
// equivalent or the plugin does not support it (strings, complex, fp8...).
std::optional<ServalDataType> FromOnnx(ONNXTensorElementDataType type);
ONNXTensorElementDataType ToOnnx(ServalDataType type);
const char* OnnxTypeName(ONNXTensorElementDataType type);

}  // namespace serval::ort

#endif  // SERVAL_BACKENDS_ONNXRUNTIME_ORT_COMMON_H_
