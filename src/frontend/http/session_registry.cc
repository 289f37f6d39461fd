#include "frontend/http/session_registry.h"

#include <algorithm>
#include <vector>

namespace serval::http {

SessionRegistry::AddResult SessionRegistry::Add(
    HttpSession* session, std::weak_ptr<HttpSession> weak) {
  absl::MutexLock lock(&mu_);
  if (closed_) return AddResult::kStopped;
  if (max_sessions_ > 0 && sessions_.size() >= max_sessions_) {
    return AddResult::kFull;
  }
  sessions_.emplace(session, std::move(weak));
  return AddResult::kAdded;
}

bool SessionRegistry::ReserveBody(size_t bytes) {
  if (max_body_bytes_ == 0 || bytes == 0) return true;
  size_t now = body_bytes_.load(std::memory_order_relaxed);
  do {
    if (bytes > max_body_bytes_ - std::min(now, max_body_bytes_)) return false;
  } while (!body_bytes_.compare_exchange_weak(now, now + bytes,
                                              std::memory_order_relaxed));
  return true;
}

void SessionRegistry::ReleaseBody(size_t bytes) {
  if (max_body_bytes_ == 0 || bytes == 0) return;
  body_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
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
