// ThreadSanitizer cannot see absl::Mutex synchronize: Debian's Abseil is
// built without TSan, so its lock and unlock are invisible to it, and every
// member guarded by an absl::Mutex would be reported as a race. Linked into
// TSan builds only (CMake, SERVAL_SANITIZE=thread), this file defines the
// Mutex and CondVar entry points serval calls, which take precedence over
// the shared library's: each calls the library's own (found with
// dlsym(RTLD_NEXT)) and tells TSan what it did, release before giving the
// mutex up, acquire once holding it. That is all TSan needs for
// happens-before; it does not get lock-order (deadlock) checking.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"

#if !ABSL_OPTION_USE_INLINE_NAMESPACE
#error "the mangled names below assume Abseil's inline namespace"
#endif

namespace {

#define SERVAL_TSAN_STR2(x) #x
#define SERVAL_TSAN_STR(x) SERVAL_TSAN_STR2(x)

// The library's definition of absl::<inline namespace>::<suffix>.
template <typename F>
F Real(const char* suffix) {
  const std::string ns = SERVAL_TSAN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = "_ZN4absl" + std::to_string(ns.size()) + ns + suffix;
  void* f = dlsym(RTLD_NEXT, name.c_str());
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex: %s not found in Abseil\n",
                 name.c_str());
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

void Acquired(const void* mu) { __tsan_acquire(const_cast<void*>(mu)); }
void Releasing(const void* mu) { __tsan_release(const_cast<void*>(mu)); }

// Abseil evaluates a waiter's condition inside the call, holding the mutex
// it took internally, on the waiting thread or on the one unlocking. The
// condition reads guarded state, so it is a critical section of its own:
// the condition handed to Abseil acquires first and releases after.
struct Guarded {
  const absl::Condition* cond;
  const absl::Mutex* mu;
};
bool EvalAcquired(Guarded* g) {
  Acquired(g->mu);
  const bool r = g->cond->Eval();
  // A false condition leaves the mutex to others inside Abseil: what it
  // read comes before their writes.
  Releasing(g->mu);
  return r;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  real(this);
  Acquired(this);
}
void Mutex::ReaderLock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  real(this);
  Acquired(this);
}
bool Mutex::TryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  const bool got = real(this);
  if (got) Acquired(this);
  return got;
}
bool Mutex::ReaderTryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  const bool got = real(this);
  if (got) Acquired(this);
  return got;
}
void Mutex::Unlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  Releasing(this);
  real(this);
}
void Mutex::ReaderUnlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  Releasing(this);
  real(this);
}
void Mutex::LockWhen(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex8LockWhenERKNS0_9ConditionE");
  // Made before anything is released: Abseil reads both from other
  // threads.
  Guarded g{&cond, this};
  const Condition guarded(&EvalAcquired, &g);
  // Not holding the mutex yet, but the condition may be evaluated by the
  // thread that unlocks it: publish it (and what it reads) to that thread.
  Releasing(this);
  real(this, guarded);
  Acquired(this);
}
void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  // Made before anything is released: Abseil reads both from other
  // threads.
  Guarded g{&cond, this};
  const Condition guarded(&EvalAcquired, &g);
  // Not holding the mutex yet, but the condition may be evaluated by the
  // thread that unlocks it: publish it (and what it reads) to that thread.
  Releasing(this);
  real(this, guarded);
  Acquired(this);
}
// The timed forms hold the mutex on return whether or not the condition
// became true.
bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  // Made before anything is released: Abseil reads both from other
  // threads.
  Guarded g{&cond, this};
  const Condition guarded(&EvalAcquired, &g);
  // Not holding the mutex yet, but the condition may be evaluated by the
  // thread that unlocks it: publish it (and what it reads) to that thread.
  Releasing(this);
  const bool r = real(this, guarded, timeout);
  Acquired(this);
  return r;
}
bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  // Made before anything is released: Abseil reads both from other
  // threads.
  Guarded g{&cond, this};
  const Condition guarded(&EvalAcquired, &g);
  // Not holding the mutex yet, but the condition may be evaluated by the
  // thread that unlocks it: publish it (and what it reads) to that thread.
  Releasing(this);
  const bool r = real(this, guarded, deadline);
  Acquired(this);
  return r;
}

// Waiting: the mutex is given up and taken again inside the call.
void Mutex::Await(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex5AwaitERKNS0_9ConditionE");
  // Made before anything is released: Abseil reads both from other
  // threads.
  Guarded g{&cond, this};
  const Condition guarded(&EvalAcquired, &g);
  Releasing(this);
  real(this, guarded);
  Acquired(this);
}
bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  // Made before anything is released: Abseil reads both from other
  // threads.
  Guarded g{&cond, this};
  const Condition guarded(&EvalAcquired, &g);
  Releasing(this);
  const bool r = real(this, guarded, timeout);
  Acquired(this);
  return r;
}
bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  // Made before anything is released: Abseil reads both from other
  // threads.
  Guarded g{&cond, this};
  const Condition guarded(&EvalAcquired, &g);
  Releasing(this);
  const bool r = real(this, guarded, deadline);
  Acquired(this);
  return r;
}
void CondVar::Wait(Mutex* mu) {
  static const auto real =
      Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  Releasing(mu);
  real(this, mu);
  Acquired(mu);
}
bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Releasing(mu);
  const bool r = real(this, mu, timeout);
  Acquired(mu);
  return r;
}
bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, Time)>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Releasing(mu);
  const bool r = real(this, mu, deadline);
  Acquired(mu);
  return r;
}

ABSL_NAMESPACE_END
}  // namespace absl
