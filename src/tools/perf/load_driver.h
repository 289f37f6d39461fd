// The two ways `serval perf` loads a server, and the recorder they feed.
//  - ClosedLoopDriver: `concurrency` requests always in flight; each
//    response triggers the next request (throughput follows the server).
//  - OpenLoopDriver: sends at scheduled times (ArrivalSchedule) whatever
//    the server does; latency runs from the scheduled time, so a stalled
//    server shows up in the latency instead of slowing the client down
//    (no coordinated omission).
// Drivers are started and stopped from one thread; completions arrive on
// transport threads and go to the Recorder, which is thread-safe. The
// recorder and the in-flight count are shared with the callbacks, so a
// response arriving after a driver gave up draining touches nothing freed.
#ifndef SERVAL_TOOLS_PERF_LOAD_DRIVER_H_
#define SERVAL_TOOLS_PERF_LOAD_DRIVER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tools/perf/arrival_schedule.h"
#include "tools/perf/transport.h"

namespace serval::perf {

struct Sample {
  int64_t latency_ns = 0;
  int64_t send_ns = 0;
  int64_t recv_ns = 0;
  // Open loop: how late the request really went out after its scheduled
  // time (client-side delay, part of latency_ns).
  int64_t lag_ns = 0;
  std::string error;  // empty: success
};

// Collects completed requests; a measurement window takes them all at its end.
class Recorder {
 public:
  void Add(Sample s);
  std::vector<Sample> Take();
  int64_t Pending();  // samples added since the last Take

 private:
  absl::Mutex mu_;
  std::vector<Sample> samples_ ABSL_GUARDED_BY(mu_);
};

class LoadDriver {
 public:
  virtual ~LoadDriver() = default;
  virtual void Start() = 0;
  // Stops issuing and waits (up to `drain_ms`) for requests in flight.
  // Returns false when some were still outstanding.
  virtual bool Stop(int64_t drain_ms) = 0;
};

// Shared bookkeeping of requests in flight.
class InFlight {
 public:
  void Begin();
  void End();
  bool WaitZero(int64_t timeout_ms);

 private:
  std::mutex mu_;
  int64_t count_ = 0;  // guarded by mu_
  std::condition_variable zero_;
};

class ClosedLoopDriver : public LoadDriver {
 public:
  ClosedLoopDriver(Transport* transport, int concurrency,
                   std::shared_ptr<Recorder> recorder);
  ~ClosedLoopDriver() override { Stop(60000); }
  void Start() override;
  bool Stop(int64_t drain_ms) override;

 private:
  struct Shared {
    Transport* transport;
    std::shared_ptr<Recorder> recorder;
    InFlight in_flight;
    std::atomic<bool> running{false};
  };
  static void Issue(const std::shared_ptr<Shared>& shared);

  int concurrency_;
  std::shared_ptr<Shared> shared_;
};

class OpenLoopDriver : public LoadDriver {
 public:
  OpenLoopDriver(Transport* transport, Arrivals arrivals, double rate,
                 uint64_t seed, std::shared_ptr<Recorder> recorder)
      : transport_(transport),
        schedule_(arrivals, rate, seed),
        recorder_(std::move(recorder)),
        in_flight_(std::make_shared<InFlight>()) {}
  ~OpenLoopDriver() override { Stop(60000); }
  void Start() override;
  bool Stop(int64_t drain_ms) override;

 private:
  void Generate();

  Transport* transport_;
  ArrivalSchedule schedule_;  // used by the generator thread only
  std::shared_ptr<Recorder> recorder_;
  std::shared_ptr<InFlight> in_flight_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread generator_;
};

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_LOAD_DRIVER_H_
