#include "frontend/http/session_registry.h"

#include <vector>

namespace serval::http {

bool SessionRegistry::Add(HttpSession* session,
                          std::weak_ptr<HttpSession> weak) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  sessions_.emplace(session, std::move(weak));
  return true;
}

void SessionRegistry::Remove(HttpSession* session) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(session);
}

void SessionRegistry::CloseAll(const std::function<void(HttpSession&)>& close) {
  std::vector<std::shared_ptr<HttpSession>> live;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    for (auto& [raw, weak] : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  for (auto& session : live) close(*session);
  // `live` may hold the last references; they go here, without the lock.
}

}  // namespace serval::http
