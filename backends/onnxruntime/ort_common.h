// Shared pieces of the ONNX Runtime plugin: the host table, the one error
// path (PluginError, turned into a ServalError at the ABI boundary), the
// process-wide Ort::Env and datatype mapping between ONNX and serval.
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

namespace serval::ort {

// A failure with the status code the host should see.
class PluginError : public std::runtime_error {
 public:
  PluginError(ServalCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ServalCode code() const { return code_; }

 private:
  ServalCode code_;
};

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

// Number of CPUs this process may run on (affinity mask), at least 1.
uint32_t AvailableCpus();

// ONNX element type <-> serval datatype; nullopt when serval has no
// equivalent or the plugin does not support it (strings, complex, fp8...).
std::optional<ServalDataType> FromOnnx(ONNXTensorElementDataType type);
ONNXTensorElementDataType ToOnnx(ServalDataType type);
// "TYPE_FP32" style names used in config.pbtxt, and "FP32" style API names.
const char* ConfigTypeName(ServalDataType type);
const char* ApiTypeName(ServalDataType type);
const char* OnnxTypeName(ONNXTensorElementDataType type);
uint64_t ElementSize(ServalDataType type);

std::string DimsToString(const std::vector<int64_t>& dims);

}  // namespace serval::ort

#endif  // SERVAL_BACKENDS_ONNXRUNTIME_ORT_COMMON_H_
