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
#include <type_traits>

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
namespace {

// Every entry point that takes a condition. Whether or not the caller holds
// the mutex yet (LockWhen) or gives it up inside (Await), Abseil may
// evaluate the condition on the thread that unlocks: the wrapper and what
// the condition reads are published first, and the caller holds the mutex
// on return (the timed forms too, whatever they return).
template <typename R, typename... Extra>
R WithCondition(R (*real)(Mutex*, const Condition&, Extra...), Mutex* mu,
                const Condition& cond, Extra... extra) {
  Guarded g{&cond, mu};
  const Condition guarded(&EvalAcquired, &g);
  Releasing(mu);
  if constexpr (std::is_void_v<R>) {
    real(mu, guarded, extra...);
    Acquired(mu);
  } else {
    const R r = real(mu, guarded, extra...);
    Acquired(mu);
    return r;
  }
}

}  // namespace

void Mutex::LockWhen(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex8LockWhenERKNS0_9ConditionE");
  WithCondition(real, this, cond);
}
void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  WithCondition(real, this, cond);
}
bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return WithCondition(real, this, cond, timeout);
}
bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return WithCondition(real, this, cond, deadline);
}
void Mutex::Await(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex5AwaitERKNS0_9ConditionE");
  WithCondition(real, this, cond);
}
bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return WithCondition(real, this, cond, timeout);
}
bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return WithCondition(real, this, cond, deadline);
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
