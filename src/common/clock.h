// Injectable monotonic clock, so time-driven logic (the batcher, timeouts)
// is unit-tested with a fake clock instead of sleeps. Thread-safe.
#ifndef SERVAL_COMMON_CLOCK_H_
#define SERVAL_COMMON_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace serval {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds on a monotonic clock (CLOCK_MONOTONIC for the real clock,
  // which is also what backends report through the ABI).
  virtual uint64_t NowNs() const = 0;
  // The process-wide real clock.
  static const Clock* Real();
};

// A clock that only moves when told to. For tests.
class FakeClock : public Clock {
 public:
  explicit FakeClock(uint64_t start_ns = 1'000'000'000) : now_(start_ns) {}
  uint64_t NowNs() const override { return now_.load(); }
  void Advance(uint64_t ns) { now_.fetch_add(ns); }
  void Set(uint64_t ns) { now_.store(ns); }

 private:
  std::atomic<uint64_t> now_;
};

// Monotonic nanoseconds from the real clock.
inline uint64_t MonotonicNowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace serval

#endif  // SERVAL_COMMON_CLOCK_H_
