#include "frontend/grpc/stream_infer_reactor.h"

#include <deque>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "frontend/grpc/infer_codec.h"

namespace serval {
namespace {

using inference::ModelInferRequest;
using inference::ModelStreamInferResponse;

// Reads are chained one at a time; each decoded request runs concurrently
// with later reads. Writes are serialized through `queue_` (gRPC allows one
// outstanding write). Start*/Finish are never called with mu_ held: gRPC
// may run a reaction inline on the calling thread.
class StreamInferReactor
    : public grpc::ServerBidiReactor<ModelInferRequest,
                                     ModelStreamInferResponse> {
 public:
  StreamInferReactor(ServerApi* server, grpc::CallbackServerContext* context)
      : server_(server), context_(context) {
    StartNextRead();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // Client half-closed the stream, or the call was cancelled.
      bool finish = false;
      {
        absl::MutexLock lock(&mu_);
        reads_done_ = true;
        finish = ShouldFinishLocked();
      }
      if (finish) Finish(grpc::Status::OK);
      return;
    }
    std::shared_ptr<ModelInferRequest> message = std::move(next_read_);
    {
      absl::MutexLock lock(&mu_);
      ++pending_;
    }
    StartNextRead();
    Process(std::move(message));
  }

  void OnWriteDone(bool ok) override {
    const ModelStreamInferResponse* next = nullptr;
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      writing_.reset();
      if (!ok) {
        // The client is gone; nothing more can be delivered.
        write_failed_ = true;
        queue_.clear();
      }
      if (!queue_.empty()) {
        writing_ = std::move(queue_.front());
        queue_.pop_front();
        next = writing_.get();
      } else {
        finish = ShouldFinishLocked();
      }
    }
    if (next != nullptr) {
      StartWrite(next);
    } else if (finish) {
      Finish(grpc::Status::OK);
    }
  }

  void OnCancel() override { cancellation_->Cancel(); }
  void OnDone() override { delete this; }

 private:
  void StartNextRead() {
    next_read_ = std::make_shared<ModelInferRequest>();
    StartRead(next_read_.get());
  }

  void Process(std::shared_ptr<ModelInferRequest> message) {
    const ModelInferRequest& msg = *message;
    absl::StatusOr<InferenceRequest> decoded =
        DecodeInferRequest(msg, message, context_->deadline());
    if (!decoded.ok()) {
      Deliver(ErrorResponse(msg, decoded.status(), msg.id()));
      return;
    }
    decoded->cancellation = cancellation_;
    // `message` stays referenced by payload_owner until completion, so
    // the callback may read it.
    server_->Infer(*std::move(decoded), [this,
                                         message](InferenceResponse result) {
      if (!result.status.ok()) {
        const std::string& id = result.id.empty() ? message->id() : result.id;
        Deliver(ErrorResponse(*message, result.status, id));
        return;
      }
      auto response = std::make_unique<ModelStreamInferResponse>();
      EncodeInferResponse(result, response->mutable_infer_response());
      Deliver(std::move(response));
    });
  }

  static std::unique_ptr<ModelStreamInferResponse> ErrorResponse(
      const ModelInferRequest& request, const absl::Status& status,
      const std::string& id) {
    auto response = std::make_unique<ModelStreamInferResponse>();
    response->set_error_message(ErrorText(status, id));
    EncodeFailedRequest(request, response->mutable_infer_response());
    if (!id.empty()) response->mutable_infer_response()->set_id(id);
    return response;
  }

  // Queues the response of one finished request and writes it when no
  // other write is in flight.
  void Deliver(std::unique_ptr<ModelStreamInferResponse> response) {
    const ModelStreamInferResponse* next = nullptr;
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      --pending_;
      if (!write_failed_) queue_.push_back(std::move(response));
      if (writing_ == nullptr && !queue_.empty()) {
        writing_ = std::move(queue_.front());
        queue_.pop_front();
        next = writing_.get();
      } else {
        finish = ShouldFinishLocked();
      }
    }
    if (next != nullptr) {
      StartWrite(next);
    } else if (finish) {
      Finish(grpc::Status::OK);
    }
  }

  // True exactly once: when reading has ended, every request has been
  // answered and the last write has completed.
  bool ShouldFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || !reads_done_ || pending_ > 0 || writing_ != nullptr ||
        !queue_.empty()) {
      return false;
    }
    finished_ = true;
    return true;
  }

  ServerApi* const server_;
  grpc::CallbackServerContext* const context_;
  // One flag for the whole stream: cancelling the call cancels every
  // request still in flight on it.
  const std::shared_ptr<CancellationFlag> cancellation_ =
      std::make_shared<CancellationFlag>();
  // Only touched by the read chain (constructor and OnReadDone).
  std::shared_ptr<ModelInferRequest> next_read_;

  absl::Mutex mu_;
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<ModelStreamInferResponse> writing_ ABSL_GUARDED_BY(mu_);
  std::deque<std::unique_ptr<ModelStreamInferResponse>> queue_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerBidiReactor<ModelInferRequest, ModelStreamInferResponse>*
StartModelStreamInfer(ServerApi* server, grpc::CallbackServerContext* context) {
  return new StreamInferReactor(server, context);
}

}  // namespace serval
