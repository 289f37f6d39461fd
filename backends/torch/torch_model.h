// TorchModel and TorchInstance: a TorchScript model version and its
// execution contexts.
//
// TorchModel loads the module once (torch::jit::load, eval mode) and works
// out, at load time, how config inputs bind to forward() arguments and how
// the values forward() returns map to config outputs. TorchInstance runs
// batches on that shared module; instances hold no weights of their own.
//
// Ownership: the plugin glue owns both; instances point at their model,
// which outlives them (the host destroys instances first).
// Threads: Load/Create from load threads. Execute on one instance is never
// concurrent; Execute on different instances of one model may be (forward
// on a shared module is thread-safe under InferenceMode).
// Errors are thrown as PluginError (or c10::Error); the glue converts.
//
// The header is free of libtorch types so only torch_model.cc pays for
// libtorch's headers.
#ifndef SERVAL_BACKENDS_TORCH_TORCH_MODEL_H_
#define SERVAL_BACKENDS_TORCH_TORCH_MODEL_H_

#include <cstdint>
#include <memory>

#include "model_spec.h"
#include "serval/backend.h"

namespace serval::torch_backend {

class TorchInstance;

class TorchModel {
 public:
  // Loads spec.model_file and checks it against the spec. `host` is used
  // for logging.
  static std::unique_ptr<TorchModel> Load(ModelSpec spec,
                                          const ServalHostApi* host);
  ~TorchModel();

  TorchModel(const TorchModel&) = delete;
  TorchModel& operator=(const TorchModel&) = delete;

  const ModelSpec& spec() const { return spec_; }

  // The module and its bindings; defined in torch_model.cc, the only file
  // that sees libtorch types.
  struct Loaded;
  const Loaded& loaded() const { return *loaded_; }

 private:
  TorchModel(ModelSpec spec, std::unique_ptr<Loaded> loaded);

  ModelSpec spec_;
  std::unique_ptr<Loaded> loaded_;
};

class TorchInstance {
 public:
  // kind is a ServalInstanceKind. GPU instances are refused for now.
  static std::unique_ptr<TorchInstance> Create(const TorchModel* model,
                                               int32_t kind, int32_t device_id,
                                               uint32_t index,
                                               const ServalHostApi* host);
  ~TorchInstance();

  // Runs the batch and writes every requested output. Does not complete
  // the batch: the caller does that, exactly once, with the outcome.
  void Execute(ServalBatch* batch);

 private:
  struct Placement;  // the torch device (torch_model.cc)

  TorchInstance(const TorchModel* model, std::unique_ptr<Placement> placement,
                int intra_op_threads, const ServalHostApi* host);

  const TorchModel* model_;
  std::unique_ptr<Placement> placement_;
  int intra_op_threads_;
  const ServalHostApi* host_;
};

}  // namespace serval::torch_backend

#endif  // SERVAL_BACKENDS_TORCH_TORCH_MODEL_H_
