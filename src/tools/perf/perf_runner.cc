#include "tools/perf/perf_runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "tools/perf/goodput.h"
#include "tools/perf/load_driver.h"
#include "tools/perf/stability.h"

namespace serval::perf {
namespace {

constexpr int kStableWindows = 3;
constexpr int64_t kDrainMs = 30000;

struct Window {
  std::vector<Sample> samples;
  double seconds = 0;
  WindowFigures figures;
  std::optional<ServerStats> server;  // delta over the window
};

WindowFigures FiguresOf(const std::vector<Sample>& samples, double seconds) {
  std::vector<int64_t> ok;
  ok.reserve(samples.size());
  for (const Sample& s : samples) {
    if (s.error.empty()) ok.push_back(s.latency_ns);
  }
  WindowFigures f;
  f.throughput = seconds > 0 ? ok.size() / seconds : 0;
  std::sort(ok.begin(), ok.end());
  f.p99_ns = Percentile(ok, 99);
  return f;
}

// Sleeps until `until_ns`, reporting progress every quarter second.
void WaitWindow(int64_t until_ns, const std::function<void()>& tick) {
  while (true) {
    const int64_t left = until_ns - NowNs();
    if (left <= 0) return;
    std::this_thread::sleep_for(
        std::chrono::nanoseconds(std::min<int64_t>(left, 250'000'000)));
    tick();
  }
}

StepResult Combine(const std::deque<Window>& windows, int64_t batch_size,
                   int64_t budget_ns) {
  StepResult r;
  std::vector<const Sample*> every;
  std::vector<int64_t> latencies;
  std::vector<double> throughputs;
  double send = 0, recv = 0, lag = 0;
  int64_t lag_max = 0, all = 0;
  bool have_server = true;
  ServerStats server;
  for (const Window& w : windows) {
    r.seconds += w.seconds;
    throughputs.push_back(w.figures.throughput);
    for (const Sample& s : w.samples) {
      every.push_back(&s);
      lag += s.lag_ns;
      lag_max = std::max(lag_max, s.lag_ns);
      ++all;
      if (s.error.empty()) {
        latencies.push_back(s.latency_ns);
        send += s.send_ns;
        recv += s.recv_ns;
      } else {
        ++r.errors_by_code[s.error];
        ++r.errors;
      }
    }
    if (w.server)
      server += *w.server;
    else
      have_server = false;
  }
  r.successes = static_cast<int64_t>(latencies.size());
  std::sort(throughputs.begin(), throughputs.end());
  r.throughput = throughputs.empty() ? 0 : throughputs[throughputs.size() / 2];
  std::vector<WindowFigures> figures;
  for (const Window& w : windows) figures.push_back(w.figures);
  r.throughput_spread = ThroughputSpreadPercent(figures, figures.size());
  r.inferences_per_s = r.throughput * batch_size;
  if (r.successes > 0) {
    r.send_us = send / r.successes / 1000.0;
    r.recv_us = recv / r.successes / 1000.0;
  }
  if (all > 0) r.lag_avg_us = lag / all / 1000.0;
  r.lag_max_us = lag_max / 1000.0;
  r.latency = Summarize(latencies);
  if (have_server && !windows.empty()) r.server = Breakdown(server);
  const Outcomes o = CountOutcomes(every, r.seconds, budget_ns);
  r.goodput = o.goodput;
  r.within_budget = o.within_budget;
  r.refusals = o.refusals;
  r.refusal_latency = o.refusal_latency;
  r.other_errors = o.other_errors;
  return r;
}

}  // namespace

std::optional<ServerStats> PerfRunner::Snapshot() {
  if (!options_.server_stats) return std::nullopt;
  absl::StatusOr<ServerStats> s = transport_->FetchStats();
  if (s.ok()) return *s;
  if (!stats_warned_) {
    std::fprintf(stderr, "serval perf: no server-side breakdown: %s\n",
                 std::string(s.status().message()).c_str());
    stats_warned_ = true;
  }
  return std::nullopt;
}

StepResult PerfRunner::RunConcurrency(int concurrency) {
  auto recorder = std::make_shared<Recorder>();
  ClosedLoopDriver driver(transport_, concurrency, recorder);
  return Measure(&driver, recorder.get(), false, concurrency);
}

StepResult PerfRunner::RunRate(double requests_per_s) {
  auto recorder = std::make_shared<Recorder>();
  OpenLoopDriver driver(transport_, options_.arrivals, requests_per_s,
                        options_.seed, recorder);
  return Measure(&driver, recorder.get(), true, requests_per_s);
}

StepResult PerfRunner::Measure(LoadDriver* driver, Recorder* recorder,
                               bool open_loop, double level) {
  const std::string name = open_loop
                               ? absl::StrFormat("rate %.1f/s", level)
                               : absl::StrFormat("concurrency %.0f", level);
  driver->Start();
  const int64_t warm_end = NowNs() + options_.warmup_ms * 1'000'000;
  WaitWindow(warm_end, [&] {
    progress_(absl::StrFormat("%s: warming up, %d responses", name,
                              recorder->Pending()));
  });
  recorder->Take();
  std::optional<ServerStats> before = Snapshot();
  int64_t t0 = NowNs();
  std::deque<Window> last;
  std::vector<WindowFigures> history;
  bool stable = false;
  int trials = 0;
  while (trials < std::max(1, options_.max_trials) && !stable) {
    ++trials;
    const int64_t end = t0 + options_.window_ms * 1'000'000;
    WaitWindow(end, [&] {
      const double s = (NowNs() - t0) / 1e9;
      progress_(absl::StrFormat(
          "%s: window %d (max %d) %.1fs, %.0f responses/s", name, trials,
          options_.max_trials, s, s > 0 ? recorder->Pending() / s : 0));
    });
    Window w;
    w.samples = recorder->Take();
    const int64_t t1 = NowNs();
    w.seconds = (t1 - t0) / 1e9;
    std::optional<ServerStats> after = Snapshot();
    if (before && after) w.server = Delta(*before, *after);
    before = after;
    t0 = t1;
    w.figures = FiguresOf(w.samples, w.seconds);
    history.push_back(w.figures);
    last.push_back(std::move(w));
    if (static_cast<int>(last.size()) > kStableWindows) last.pop_front();
    stable = IsStable(history, options_.stability_percent, kStableWindows);
  }
  StepResult r = Combine(last, options_.batch_size, options_.latency_budget_ns);
  r.drained = driver->Stop(kDrainMs);
  r.open_loop = open_loop;
  r.level = level;
  r.windows = trials;
  r.stable = stable;
  return r;
}

}  // namespace serval::perf
