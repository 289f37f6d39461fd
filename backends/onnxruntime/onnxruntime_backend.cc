// The plugin's ABI table: thin wrappers that catch every exception and turn
// it into a ServalError (nothing may cross the C boundary).
#include <memory>
#include <string>

#include "ort_common.h"
#include "ort_instance.h"
#include "ort_model.h"
#include "serval/backend.h"

struct ServalModelState {
  std::unique_ptr<serval::ort::OrtModel> model;
};

struct ServalInstanceState {
  std::unique_ptr<serval::ort::OrtInstance> instance;
};

namespace serval::ort {
namespace {

ServalError* Autocomplete(const char* model_file, const char* /*config_json*/,
                          ServalStringSink sink, void* sink_context) {
  try {
    const std::string json =
        AutocompleteJson(ReadModelFileSignature(model_file));
    sink(sink_context, json.data(), json.size());
    return nullptr;
  } catch (...) {
    return CurrentExceptionToError("");  // the host names the file
  }
}

ServalError* ModelCreate(const ServalModelInfo* info,
                         ServalModelState** state) {
  try {
    *state = new ServalModelState{OrtModel::Create(*info)};
    return nullptr;
  } catch (...) {
    // The host prefixes the model's name and version.
    return CurrentExceptionToError("");
  }
}

void ModelDestroy(ServalModelState* state) { delete state; }

ServalError* InstanceCreate(ServalModelState* model, int32_t kind,
                            int32_t device_id, uint32_t index,
                            ServalInstanceState** state) {
  try {
    if (kind != SERVAL_INSTANCE_CPU) {
      throw PluginError(SERVAL_UNIMPLEMENTED,
                        "the onnxruntime backend runs on CPU only (KIND_GPU "
                        "device " +
                            std::to_string(device_id) + " requested)");
    }
    *state = new ServalInstanceState{
        std::make_unique<OrtInstance>(model->model.get(), index)};
    return nullptr;
  } catch (...) {
    return CurrentExceptionToError("");  // the host names model and instance
  }
}

void InstanceDestroy(ServalInstanceState* state) { delete state; }

void Execute(ServalInstanceState* state, ServalBatch* batch) {
  // Execute completes the batch itself on every path.
  state->instance->Execute(batch);
}

const ServalBackendApi kApi = {
    sizeof(ServalBackendApi),
    SERVAL_BACKEND_ABI_MAJOR,
    SERVAL_BACKEND_ABI_MINOR,
    "onnxruntime",
    Autocomplete,
    ModelCreate,
    ModelDestroy,
    InstanceCreate,
    InstanceDestroy,
    Execute,
};

}  // namespace
}  // namespace serval::ort

extern "C" SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
    const ServalHostApi* host) {
  if (host == nullptr || host->abi_major != SERVAL_BACKEND_ABI_MAJOR) {
    return nullptr;
  }
  serval::ort::SetHost(host);
  // The headers are older than the library (1.21 vs 1.30); a library too old
  // or too new for ORT_API_VERSION answers NULL, and the C++ wrapper would
  // then crash on first use.
  if (OrtGetApiBase()->GetApi(ORT_API_VERSION) == nullptr) {
    serval::ort::Log(SERVAL_LOG_ERROR, std::string("libonnxruntime ") +
                                           OrtGetApiBase()->GetVersionString() +
                                           " does not serve C API version " +
                                           std::to_string(ORT_API_VERSION));
    return nullptr;
  }
  return &serval::ort::kApi;
}
