// The live connections of one HttpServer, so that Stop() can close them
// and let the I/O threads run out of work instead of abandoning handlers
// (which would strand sessions and their sockets). Thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_SESSION_REGISTRY_H_
#define SERVAL_FRONTEND_HTTP_SESSION_REGISTRY_H_

#include <functional>
#include <memory>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace serval::http {

class HttpSession;

class SessionRegistry {
 public:
  // False once CloseAll has run: the caller must not start the session.
  bool Add(HttpSession* session, std::weak_ptr<HttpSession> weak);
  void Remove(HttpSession* session);
  // Refuses later Adds and calls `close` on every live session. `close`
  // runs without the lock held: a session it releases may be destroyed
  // there, and its destructor calls Remove.
  void CloseAll(const std::function<void(HttpSession&)>& close);

 private:
  absl::Mutex mu_;
  std::unordered_map<HttpSession*, std::weak_ptr<HttpSession>> sessions_
      ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_SESSION_REGISTRY_H_
