// The live connections of one HttpServer, so that Stop() can close them
// and let the I/O threads run out of work instead of abandoning handlers
// (which would strand sessions and their sockets); and what they may hold
// together: at most `max_sessions` connections, and at most
// `max_body_bytes` of request bodies being received or served at once
// (one client cannot pin the server's memory with many large uploads).
// Thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_SESSION_REGISTRY_H_
#define SERVAL_FRONTEND_HTTP_SESSION_REGISTRY_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace serval::http {

class HttpSession;

class SessionRegistry {
 public:
  // 0: no limit.
  SessionRegistry(size_t max_sessions = 0, size_t max_body_bytes = 0)
      : max_sessions_(max_sessions), max_body_bytes_(max_body_bytes) {}

  enum class AddResult { kAdded, kStopped, kFull };
  // kStopped once CloseAll has run, kFull at max_sessions: the caller must
  // not serve the session.
  AddResult Add(HttpSession* session, std::weak_ptr<HttpSession> weak);
  void Remove(HttpSession* session);
  // Refuses later Adds and calls `close` on every live session. `close`
  // runs without the lock held: a session it releases may be destroyed
  // there, and its destructor calls Remove.
  void CloseAll(const std::function<void(HttpSession&)>& close);

  // Takes `bytes` of the body budget; false (nothing taken) when that
  // would exceed it.
  bool ReserveBody(size_t bytes);
  void ReleaseBody(size_t bytes);
  size_t max_body_bytes() const { return max_body_bytes_; }

 private:
  const size_t max_sessions_;
  const size_t max_body_bytes_;
  std::atomic<size_t> body_bytes_{0};
  absl::Mutex mu_;
  std::unordered_map<HttpSession*, std::weak_ptr<HttpSession>> sessions_
      ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_SESSION_REGISTRY_H_
