#include "frontend/grpc/stream_infer_reactor.h"

#include <deque>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "frontend/grpc/infer_codec.h"
#include "frontend/grpc/infer_reactor.h"

namespace serval {
namespace {

using inference::ModelInferRequest;
using inference::ModelStreamInferResponse;

class StreamInferReactor;

// One request of a stream: its message (the request's inputs point into
// it) and its completion, alive from the read until it is answered.
struct StreamRequest final : InferCompletion {
  explicit StreamRequest(StreamInferReactor* r) : reactor(r) {}
  void OnInferComplete(InferenceResponse response) override;

  StreamInferReactor* const reactor;
  ModelInferRequest message;
};

// Reads are chained one at a time; each decoded request runs concurrently
// with later reads, up to kMaxUnwritten requests unanswered or unwritten.
// Writes are serialized through `queue_` (gRPC allows one outstanding write).
// Start*/Finish are never called with mu_ held: gRPC may run a reaction inline
// on the calling thread.
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
    std::unique_ptr<StreamRequest> request = std::move(next_read_);
    bool read_more;
    {
      absl::MutexLock lock(&mu_);
      ++pending_;
      // Backpressure: with kMaxUnwritten requests read and not yet written
      // back, stop reading until a write completes. A client that sends
      // and never reads then fills HTTP/2's flow-control window and waits,
      // instead of growing the server by a response per request.
      read_more = UnwrittenLocked() < kMaxUnwritten;
      read_paused_ = !read_more;
    }
    if (read_more) StartNextRead();
    Process(std::move(request));
  }

  void OnWriteDone(bool ok) override {
    const ModelStreamInferResponse* next = nullptr;
    bool finish = false;
    bool resume_reading = false;
    {
      absl::MutexLock lock(&mu_);
      writing_.reset();
      if (!ok) {
        // The client is gone; nothing more can be delivered.
        write_failed_ = true;
        queue_.clear();
      }
      if (read_paused_ && UnwrittenLocked() < kMaxUnwritten) {
        read_paused_ = false;
        resume_reading = true;
      }
      if (!queue_.empty()) {
        writing_ = std::move(queue_.front());
        queue_.pop_front();
        next = writing_.get();
      } else {
        finish = ShouldFinishLocked();
      }
    }
    // No read is in flight while paused, so the read chain continues here.
    if (resume_reading) StartNextRead();
    if (next != nullptr) {
      StartWrite(next);
    } else if (finish) {
      Finish(grpc::Status::OK);
    }
  }

  void OnCancel() override { cancellation_.Cancel(); }
  void OnDone() override { delete this; }

  // A request of this stream was answered (any thread); frees it.
  void Answered(std::unique_ptr<StreamRequest> request,
                InferenceResponse result) {
    if (!result.status.ok()) {
      const std::string& id =
          result.id.empty() ? request->message.id() : result.id;
      Deliver(ErrorResponse(request->message, result.status, id));
      return;
    }
    auto response = std::make_unique<ModelStreamInferResponse>();
    EncodeInferResponse(result, response->mutable_infer_response());
    Deliver(std::move(response));
  }

 private:
  void StartNextRead() {
    next_read_ = std::make_unique<StreamRequest>(this);
    StartRead(&next_read_->message);
  }

  void Process(std::unique_ptr<StreamRequest> request) {
    const ModelInferRequest& msg = request->message;
    // Until it is answered the request owns itself (StreamRequest).
    StreamRequest* owned = request.release();
    absl::Status submitted =
        SubmitInfer(server_, msg, context_->deadline(), &cancellation_, owned);
    if (!submitted.ok()) {
      std::unique_ptr<StreamRequest> failed(owned);
      Deliver(ErrorResponse(failed->message, submitted, failed->message.id()));
    }
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
    bool resume_reading = false;
    {
      absl::MutexLock lock(&mu_);
      --pending_;
      if (!write_failed_) queue_.push_back(std::move(response));
      // A dropped response (the client is gone) frees its place too; the
      // resumed read then fails and ends the stream.
      if (read_paused_ && UnwrittenLocked() < kMaxUnwritten) {
        read_paused_ = false;
        resume_reading = true;
      }
      if (writing_ == nullptr && !queue_.empty()) {
        writing_ = std::move(queue_.front());
        queue_.pop_front();
        next = writing_.get();
      } else {
        finish = ShouldFinishLocked();
      }
    }
    if (resume_reading) StartNextRead();
    if (next != nullptr) {
      StartWrite(next);
    } else if (finish) {
      Finish(grpc::Status::OK);
    }
  }

  // Requests read whose response has not been written yet.
  size_t UnwrittenLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<size_t>(pending_) + queue_.size() +
           (writing_ != nullptr ? 1 : 0);
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
  // request still in flight on it. The stream outlives its requests.
  CancellationFlag cancellation_;
  // Requests a stream may have read and not yet answered and written.
  static constexpr size_t kMaxUnwritten = 64;

  // Only touched by the read chain (the constructor, OnReadDone, and
  // OnWriteDone resuming a paused chain).
  std::unique_ptr<StreamRequest> next_read_;

  absl::Mutex mu_;
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<ModelStreamInferResponse> writing_ ABSL_GUARDED_BY(mu_);
  std::deque<std::unique_ptr<ModelStreamInferResponse>> queue_
      ABSL_GUARDED_BY(mu_);
};

void StreamRequest::OnInferComplete(InferenceResponse response) {
  reactor->Answered(std::unique_ptr<StreamRequest>(this), std::move(response));
}

}  // namespace

grpc::ServerBidiReactor<ModelInferRequest, ModelStreamInferResponse>*
StartModelStreamInfer(ServerApi* server, grpc::CallbackServerContext* context) {
  return new StreamInferReactor(server, context);
}

}  // namespace serval
