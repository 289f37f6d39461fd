// PythonInstance: one instance of a Python model, run by its own stub
// process (its own interpreter and GIL). Execute sends a batch's requests
// with their tensors in the input region, waits for the stub's responses
// (answering its log lines meanwhile), and writes the outputs the stub left
// in the output region into the batch. A stub that dies, closes its socket
// or does not answer by the batch's deadline fails that batch with a clear
// error, is killed, and is started again (initialize() and all) for the
// next batch.
#ifndef SERVAL_BACKENDS_PYTHON_PYTHON_INSTANCE_H_
#define SERVAL_BACKENDS_PYTHON_PYTHON_INSTANCE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "python_model.h"
#include "serval/backend.h"
#include "shared_region.h"
#include "stub_process.h"

namespace serval::python {

// The channel to the current stub, shared with answers to BLS calls that
// may arrive on other threads after the batch (or the stub) is gone.
struct StubSender {
  std::mutex mu;
  FrameChannel* channel = nullptr;  // null: no stub to answer
  bool Send(std::string_view json, std::string_view payload = {});
};

class PythonInstance {
 public:
  PythonInstance(const ServalHostApi* host, const PythonModel* model,
                 int32_t kind, int32_t device_id, uint32_t index);
  // Runs finalize() (bounded) and ends the stub.
  ~PythonInstance();

  // Starts the stub and runs initialize(); throws PluginError with the
  // model's traceback when it fails.
  void Start();
  // Runs one batch and completes it.
  void Execute(ServalBatch* batch);

 private:
  // Runs the batch without completing it; throws on failure.
  void Run(ServalBatch* batch);
  // Waits for the stub's answer to a request, serving its log lines and
  // its calls to other models on behalf of `batch` (null outside
  // execute); throws when the stub dies or misses `deadline_ns`.
  std::string AwaitReply(uint64_t deadline_ns, const char* doing,
                         ServalBatch* batch = nullptr);
  void HandleLog(const std::string& json);
  void HandleBls(const Frame& frame, ServalBatch* batch);
  bool Send(std::string_view json) { return sender_->Send(json); }
  // Ends a stub that failed, with what is known of why.
  [[noreturn]] void StubFailed(const std::string& what);
  // Forgets the stub (already ended or being ended).
  void DropStub();
  std::string Label() const;

  const ServalHostApi* host_;
  const PythonModel* model_;
  const int32_t kind_;
  const int32_t device_id_;
  const uint32_t index_;
  SharedRegion inputs_;
  SharedRegion outputs_;
  std::unique_ptr<StubProcess> stub_;
  std::shared_ptr<StubSender> sender_ = std::make_shared<StubSender>();
};

}  // namespace serval::python

#endif  // SERVAL_BACKENDS_PYTHON_PYTHON_INSTANCE_H_
