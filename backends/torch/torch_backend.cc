// The torch plugin's C ABI surface: the exported entry point and the
// function table. Every function catches everything: libtorch throws, and
// no exception may cross into the host.
#include <cstddef>
#include <exception>
#include <memory>
#include <string>

#include "backend_error.h"
#include "model_spec.h"
#include "serval/backend.h"
#include "torch_model.h"

// The ABI's opaque handles are defined by the backend.
struct ServalModelState {
  std::unique_ptr<serval::torch_backend::TorchModel> model;
};
struct ServalInstanceState {
  std::unique_ptr<serval::torch_backend::TorchInstance> instance;
};

namespace serval::torch_backend {
namespace {

const ServalHostApi* g_host = nullptr;

// Converts the exception being handled into a ServalError.
ServalError* CurrentError(const std::string& context) {
  try {
    throw;
  } catch (const HostError& e) {
    return e.error();
  } catch (const PluginError& e) {
    return g_host->error_new(e.code(), e.what());
  } catch (const std::exception& e) {
    // c10::Error derives from std::exception; its what() carries a C++
    // backtrace that belongs in the log, not in a client's error.
    g_host->log(SERVAL_LOG_ERROR, __FILE__, __LINE__, e.what());
    std::string message = e.what();
    const size_t backtrace = message.find("\nException raised from");
    if (backtrace != std::string::npos) message.resize(backtrace);
    return g_host->error_new(SERVAL_INTERNAL, (context + message).c_str());
  } catch (...) {
    return g_host->error_new(SERVAL_INTERNAL,
                             (context + "unknown exception").c_str());
  }
}

ServalError* ModelCreate(const ServalModelInfo* info,
                         ServalModelState** model) {
  try {
    ModelSpec spec = SpecFromInfo(*info);
    auto state = std::make_unique<ServalModelState>();
    state->model = TorchModel::Load(std::move(spec), g_host);
    *model = state.release();
    return nullptr;
  } catch (...) {
    return CurrentError("torch backend: loading failed: ");
  }
}

void ModelDestroy(ServalModelState* model) {
  try {
    delete model;
  } catch (...) {
  }
}

ServalError* InstanceCreate(ServalModelState* model, int32_t kind,
                            int32_t device_id, uint32_t instance_index,
                            ServalInstanceState** instance) {
  try {
    auto state = std::make_unique<ServalInstanceState>();
    state->instance = TorchInstance::Create(model->model.get(), kind, device_id,
                                            instance_index, g_host);
    *instance = state.release();
    return nullptr;
  } catch (...) {
    return CurrentError("torch backend: instance creation failed: ");
  }
}

void InstanceDestroy(ServalInstanceState* instance) {
  try {
    delete instance;
  } catch (...) {
  }
}

void Execute(ServalInstanceState* instance, ServalBatch* batch) {
  ServalError* error = nullptr;
  try {
    instance->instance->Execute(batch);
  } catch (...) {
    error = CurrentError("torch backend: ");
  }
  g_host->batch_complete(batch, error);
}

}  // namespace
}  // namespace serval::torch_backend

extern "C" SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
    const ServalHostApi* host) {
  using namespace serval::torch_backend;
  constexpr size_t kNeeded =
      offsetof(ServalHostApi, batch_complete) + sizeof(host->batch_complete);
  if (host == nullptr || host->abi_major != SERVAL_BACKEND_ABI_MAJOR ||
      host->struct_size < kNeeded) {
    return nullptr;
  }
  g_host = host;
  static const ServalBackendApi api = {
      sizeof(ServalBackendApi),
      SERVAL_BACKEND_ABI_MAJOR,
      SERVAL_BACKEND_ABI_MINOR,
      "torch",
      /*model_autocomplete=*/nullptr,
      ModelCreate,
      ModelDestroy,
      InstanceCreate,
      InstanceDestroy,
      Execute,
  };
  return &api;
}
