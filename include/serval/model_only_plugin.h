/* The C ABI entry points of a plugin whose instances hold nothing but a
 * pointer to their model (the image and tokenizer plugins): model and
 * instance creation and destruction, execute with the error conversion,
 * and the API table. Header-only, on top of backend.h and backend_util.h.
 *
 * A plugin defines `struct ServalModelState` (with a std::string `name`),
 * a `Configure(const ServalModelInfo&, ServalModelState*)` that fills it
 * and a `RunBatch(const ServalModelState&, ServalBatch*)` that runs one
 * batch without completing it; both may throw PluginError or HostError.
 * Its entry point is then:
 *
 *   using Plugin = serval::backend_util::ModelOnlyPlugin<
 *       ServalModelState, &Configure, &RunBatch>;
 *   extern "C" SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
 *       const ServalHostApi* host) {
 *     return Plugin::Api(host, "image");
 *   }
 *
 * and Plugin::host() is the host table for RunBatch's calls. Errors read
 * "<label> model '<name>': ...". */
#ifndef SERVAL_MODEL_ONLY_PLUGIN_H_
#define SERVAL_MODEL_ONLY_PLUGIN_H_

#include <memory>
#include <string>

#include "serval/backend.h"
#include "serval/backend_util.h"

struct ServalInstanceState {
  const ServalModelState* model;
};

namespace serval::backend_util {

// `Model` is the plugin's ServalModelState; a parameter so that the
// members are checked where the plugin calls Api(), once it is complete.
template <typename Model, void (*Configure)(const ServalModelInfo&, Model*),
          void (*RunBatch)(const Model&, ServalBatch*)>
class ModelOnlyPlugin {
 public:
  // The table for ServalBackendGetApi, or null for an unusable host.
  static const ServalBackendApi* Api(const ServalHostApi* host,
                                     const char* label) {
    if (!HostIsUsable(host)) return nullptr;
    host_ = host;
    label_ = label;
    api_.name = label;
    return &api_;
  }
  static const ServalHostApi* host() { return host_; }

 private:
  static std::string Context(const std::string& model) {
    return std::string(label_) + " model '" + model + "'";
  }

  static ServalError* ModelCreate(const ServalModelInfo* info, Model** model) {
    const std::string name = info->name != nullptr ? info->name : "";
    try {
      auto state = std::make_unique<Model>();
      state->name = name;
      Configure(*info, state.get());
      *model = state.release();
      return nullptr;
    } catch (...) {
      return ErrorFromCurrent(*host_, Context(name));
    }
  }

  static void ModelDestroy(Model* model) { delete model; }

  static ServalError* InstanceCreate(Model* model, int32_t, int32_t, uint32_t,
                                     ServalInstanceState** instance) {
    try {
      *instance = new ServalInstanceState{model};
      return nullptr;
    } catch (...) {
      return ErrorFromCurrent(*host_, Context(model->name));
    }
  }

  static void InstanceDestroy(ServalInstanceState* instance) {
    delete instance;
  }

  static void Execute(ServalInstanceState* instance, ServalBatch* batch) {
    ServalError* error = nullptr;
    try {
      RunBatch(*static_cast<const Model*>(instance->model), batch);
    } catch (const HostError& e) {
      error = e.error;
    } catch (...) {
      error = ErrorFromCurrent(
          *host_, Context(static_cast<const Model*>(instance->model)->name));
    }
    host_->batch_complete(batch, error);
  }

  static inline const ServalHostApi* host_ = nullptr;
  static inline const char* label_ = "";
  static inline ServalBackendApi api_ = {
      sizeof(ServalBackendApi),
      SERVAL_BACKEND_ABI_MAJOR,
      SERVAL_BACKEND_ABI_MINOR,
      "",
      nullptr,
      &ModelCreate,
      &ModelDestroy,
      &InstanceCreate,
      &InstanceDestroy,
      &Execute,
  };
};

}  // namespace serval::backend_util

#endif /* SERVAL_MODEL_ONLY_PLUGIN_H_ */
