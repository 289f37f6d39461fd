#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/histogram.h"
#include "metrics/metrics_exporter.h"
#include "metrics/metrics_http_server.h"
#include "metrics/metrics_options.h"
#include "metrics/model_metrics.h"
#include "metrics/process_metrics.h"
#include "metrics/text_exposition.h"

namespace serval {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HistogramTest, BucketsAreInclusiveUpperBoundsAndCumulative) {
  Histogram h({0.001, 0.01, 0.1}, 1e-9);
  h.Observe(1'000'000);      // exactly 1 ms: in le=0.001
  h.Observe(1'000'001);      // just above: le=0.01
  h.Observe(50'000'000);     // 50 ms: le=0.1
  h.Observe(2'000'000'000);  // 2 s: +Inf only
  const HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(s.count(), 4u);
  EXPECT_DOUBLE_EQ(s.sum, 2.052000001);
}

TEST(HistogramTest, ConcurrentObservationsAreAllCounted) {
  Histogram h({1, 10}, 1.0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.Observe(i % 20);
    });
  }
  for (auto& t : threads) t.join();
  const auto s = h.Snapshot();
  EXPECT_EQ(s.count(), 40000u);
  EXPECT_EQ(s.cumulative[0], 4u * 1000u);  // 0 and 1 of every 20
  EXPECT_EQ(s.cumulative[1], 4u * 5500u);  // 0..10
}

TEST(TextExpositionTest, GoldenHistogramAndCounter) {
  Histogram h({0.0001, 0.5, 1}, 1e-9);
  h.Observe(50'000);       // 50 us
  h.Observe(300'000'000);  // 0.3 s
  h.Observe(3'000'000'000);
  TextExposition out;
  out.Family("x_requests_total", "Requests.", MetricType::kCounter);
  out.Sample("x_requests_total", {{"model", "m"}, {"version", "1"}}, 7);
  out.Family("x_duration_seconds", "Latency.", MetricType::kHistogram);
  out.HistogramSamples("x_duration_seconds", {{"model", "m"}}, h.Snapshot());
  EXPECT_EQ(out.text(),
            "# HELP x_requests_total Requests.\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{model=\"m\",version=\"1\"} 7\n"
            "# HELP x_duration_seconds Latency.\n"
            "# TYPE x_duration_seconds histogram\n"
            "x_duration_seconds_bucket{model=\"m\",le=\"0.0001\"} 1\n"
            "x_duration_seconds_bucket{model=\"m\",le=\"0.5\"} 2\n"
            "x_duration_seconds_bucket{model=\"m\",le=\"1\"} 2\n"
            "x_duration_seconds_bucket{model=\"m\",le=\"+Inf\"} 3\n"
            "x_duration_seconds_sum{model=\"m\"} 3.30005\n"
            "x_duration_seconds_count{model=\"m\"} 3\n");
}

TEST(TextExpositionTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(EscapeHelp("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
  TextExposition out;
  out.Family("g", "line1\nline2", MetricType::kGauge);
  out.Sample("g", {{"model", "we\"ird\\name\n"}}, 1.5);
  EXPECT_EQ(out.text(),
            "# HELP g line1\\nline2\n# TYPE g gauge\n"
            "g{model=\"we\\\"ird\\\\name\\n\"} 1.5\n");
}

TEST(TextExpositionTest, FormatsSpecialAndLargeValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(12345678901234.0), "12345678901234");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

TEST(MetricsOptionsTest, ParsesAndRejectsBuckets) {
  auto ok = ParseBuckets("0.001,0.01,1");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<double>{0.001, 0.01, 1}));
  EXPECT_FALSE(ParseBuckets("").ok());
  EXPECT_FALSE(ParseBuckets("0.1,0.01").ok());
  EXPECT_FALSE(ParseBuckets("0.1,abc").ok());
  EXPECT_FALSE(ParseBuckets("-1").ok());
  const auto d = MetricsOptions::DefaultLatencyBuckets();
  EXPECT_DOUBLE_EQ(d.front(), 0.0001);
  EXPECT_DOUBLE_EQ(d.back(), 10);
}

TEST(ModelMetricsTest, RecordsOutcomesAndOnlyExecutedPhases) {
  ModelMetrics m(MetricsOptions{});
  RequestTimes executed;
  executed.executed = true;
  executed.request_ns = 2'000'000;
  executed.queue_ns = 500'000;
  m.RecordRequest(RequestOutcome::kSuccess, executed);
  m.RecordRequest(RequestOutcome::kQueueFull, RequestTimes{});
  m.RecordExecution(4);
  EXPECT_EQ(m.requests(RequestOutcome::kSuccess), 1u);
  EXPECT_EQ(m.requests(RequestOutcome::kQueueFull), 1u);
  EXPECT_EQ(m.requests(RequestOutcome::kTimeout), 0u);
  EXPECT_EQ(m.request_duration().Snapshot().count(), 2u);
  EXPECT_EQ(m.queue_duration().Snapshot().count(), 1u);
  EXPECT_EQ(m.inferences(), 4u);
  EXPECT_EQ(m.executions(), 1u);
  EXPECT_EQ(m.batch_size().Snapshot().cumulative[2], 1u);  // le=4
}

TEST(MetricsExporterTest, ModelFamiliesCarryModelVersionAndReason) {
  ModelMetrics m(MetricsOptions{});
  m.RecordRequest(RequestOutcome::kSuccess, RequestTimes{});
  m.RecordRequest(RequestOutcome::kTimeout, RequestTimes{});
  m.RecordRequest(RequestOutcome::kTimeout, RequestTimes{});
  TextExposition out;
  MetricsExporter::WriteModelFamilies(
      out, {{"mlp", "3", &m, 5, 6, 12, 250'000'000, 40'000'000}});
  const std::string& t = out.text();
  EXPECT_THAT(t, HasSubstr("serval_batch_size_limit{model=\"mlp\",version="
                           "\"3\"} 12\n"));
  EXPECT_THAT(t, HasSubstr("serval_queue_budget_seconds{model=\"mlp\","
                           "version=\"3\"} 0.25\n"));
  EXPECT_THAT(t, HasSubstr("serval_predicted_wait_seconds{model=\"mlp\","
                           "version=\"3\"} 0.04\n"));
  EXPECT_THAT(t, HasSubstr("serval_inference_requests_total{model=\"mlp\","
                           "version=\"3\",outcome=\"success\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("serval_inference_requests_total{model=\"mlp\","
                           "version=\"3\",outcome=\"failure\",reason="
                           "\"timeout\"} 2\n"));
  EXPECT_THAT(t,
              HasSubstr("serval_queue_depth{model=\"mlp\",version=\"3\"} 5\n"));
  EXPECT_THAT(
      t,
      HasSubstr("serval_inflight_requests{model=\"mlp\",version=\"3\"} 6\n"));
  EXPECT_THAT(t, HasSubstr("serval_request_duration_seconds_bucket{model="
                           "\"mlp\",version=\"3\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(t, HasSubstr("# TYPE serval_batch_size histogram\n"));
  // Each family is announced exactly once.
  size_t types = 0;
  for (size_t p = t.find("# TYPE serval_request_duration_seconds ");
       p != std::string::npos;
       p = t.find("# TYPE serval_request_duration_seconds ", p + 1)) {
    ++types;
  }
  EXPECT_EQ(types, 1u);
}

TEST(MetricsExporterTest, NoRecordingMeansOnlyGauges) {
  TextExposition out;
  MetricsExporter::WriteModelFamilies(out, {{"m", "1", nullptr, 2, 3}});
  EXPECT_THAT(out.text(), Not(HasSubstr("serval_inference_requests_total{")));
  EXPECT_THAT(out.text(),
              HasSubstr("serval_queue_depth{model=\"m\",version=\"1\"} 2"));
}

TEST(MetricsExporterTest, GpuFamiliesSkipMissingReadings) {
  TextExposition none;
  MetricsExporter::WriteGpuFamilies(none, {});
  EXPECT_EQ(none.text(), "");
  GpuSample g;
  g.index = 0;
  g.uuid = "GPU-1";
  g.utilization_ratio = 0.5;
  g.memory_used_bytes = 1024;
  TextExposition out;
  MetricsExporter::WriteGpuFamilies(out, {g});
  EXPECT_THAT(
      out.text(),
      HasSubstr(
          "serval_gpu_utilization_ratio{gpu=\"0\",uuid=\"GPU-1\"} 0.5\n"));
  EXPECT_THAT(
      out.text(),
      HasSubstr(
          "serval_gpu_memory_used_bytes{gpu=\"0\",uuid=\"GPU-1\"} 1024\n"));
  EXPECT_THAT(out.text(), Not(HasSubstr("serval_gpu_power_watts{")));
}

TEST(ProcessMetricsTest, ParsesProcStatWithSpacesInTheName) {
  // Fields 14/15 (utime/stime) = 150/50 ticks, 22 starttime = 1000 ticks,
  // 23 vsize = 4096000, 24 rss = 10 pages.
  const std::string stat =
      "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 150 50 0 0 "
      "20 0 8 0 1000 4096000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 "
      "0 17 0 0 0 0 0 0";
  auto p = ParseProcStat(stat, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(p.has_value());
  EXPECT_DOUBLE_EQ(p->cpu_seconds, 2.0);
  EXPECT_DOUBLE_EQ(p->start_time_seconds, 1'700'000'010.0);
  EXPECT_EQ(p->virtual_bytes, 4096000u);
  EXPECT_EQ(p->resident_bytes, 40960u);
  EXPECT_FALSE(ParseProcStat("garbage", 100, 4096, 0).has_value());
  EXPECT_TRUE(ReadProcessStats().has_value());
}

TEST(ProcessMetricsTest, CountsEstablishedConnectionsOnTheLocalPort) {
  const std::string tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue\n"
      "   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000\n"   // listen
      "   1: 0100007F:1F40 0100007F:D431 01 00000000:00000000\n"   // accepted
      "   2: 0100007F:1F40 0100007F:D432 01 00000000:00000000\n"   // accepted
      "   3: 0100007F:D431 0100007F:1F40 01 00000000:00000000\n"   // client
      "   4: 0100007F:1F40 0100007F:D433 06 00000000:00000000\n";  // TIME_WAIT
  EXPECT_EQ(CountEstablished(tcp, 8000), 2u);
  EXPECT_EQ(CountEstablished(tcp, 8001), 0u);
}

int Connect(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string HttpGet(uint16_t port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return "connect failed";
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fd);
  return out;
}

TEST(MetricsHttpServerTest, ServesMetricsAndRefusesOtherPaths) {
  int renders = 0;
  auto server = MetricsHttpServer::Start({"127.0.0.1", 0}, [&renders] {
    ++renders;
    return std::string("up 1\n");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);
  const std::string ok =
      HttpGet(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(ok, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(ok, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(ok, HasSubstr("\r\n\r\nup 1\n"));
  EXPECT_THAT(HttpGet(port, "GET /other HTTP/1.1\r\n\r\n"),
              HasSubstr("HTTP/1.1 404"));
  EXPECT_THAT(HttpGet(port, "POST /metrics HTTP/1.1\r\n\r\n"),
              HasSubstr("HTTP/1.1 405"));
  EXPECT_EQ(renders, 1);
  // A second server cannot take the same port.
  auto clash = MetricsHttpServer::Start({"127.0.0.1", port},
                                        [] { return std::string(); });
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kUnavailable);
  (*server)->Stop();
  (*server)->Stop();  // idempotent
  EXPECT_EQ(HttpGet(port, "GET /metrics HTTP/1.1\r\n\r\n"), "connect failed");
}

TEST(MetricsHttpServerTest, SlowAndIdleClientsDoNotDelayAScrape) {
  auto server = MetricsHttpServer::Start({"127.0.0.1", 0},
                                         [] { return std::string("up 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  const uint16_t port = (*server)->port();
  // Idle connections, and one sending half a request.
  std::vector<int> idle;
  for (int i = 0; i < 10; ++i) idle.push_back(Connect(port));
  const int slow = Connect(port);
  ASSERT_GE(slow, 0);
  (void)!write(slow, "GET /met", 8);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(HttpGet(port, "GET /metrics HTTP/1.1\r\n\r\n"),
              HasSubstr("\r\n\r\nup 1\n"));
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(500));
  // The slow client still gets its answer once it finishes.
  (void)!write(slow, "rics HTTP/1.1\r\n\r\n", 17);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(slow, buf, sizeof(buf))) > 0) out.append(buf, n);
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 200 OK"));
  close(slow);
  for (int fd : idle) close(fd);
}

TEST(MetricsHttpServerTest, AnswersFollowTheRequestLine) {
  auto render = [] { return std::string("x 1\n"); };
  EXPECT_THAT(MetricsHttpServer::Answer("garbage\r\n\r\n", render),
              HasSubstr("HTTP/1.1 400"));
  EXPECT_THAT(
      MetricsHttpServer::Answer("HEAD /metrics HTTP/1.1\r\n\r\n", render),
      ::testing::EndsWith("\r\n\r\n"));
  EXPECT_THAT(
      MetricsHttpServer::Answer("GET /metrics?x=1 HTTP/1.1\r\n\r\n", render),
      HasSubstr("x 1\n"));
}

TEST(MetricsHttpServerTest, ScrapesCanRequireABearerToken) {
  auto render = [] { return std::string("x 1\n"); };
  auto policy =
      AccessPolicy::Parse({"metrics:bearer=scrape-token"},
                          AccessProtocol::kHttp, "--http-restricted-api");
  ASSERT_TRUE(policy.ok());
  const std::string none = MetricsHttpServer::Answer(
      "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", render, &*policy);
  EXPECT_THAT(none, HasSubstr("HTTP/1.1 401"));
  EXPECT_THAT(none, HasSubstr("WWW-Authenticate: Bearer"));
  EXPECT_THAT(none, Not(HasSubstr("x 1")));
  EXPECT_THAT(MetricsHttpServer::Answer(
                  "GET /metrics HTTP/1.1\r\nauthorization: Bearer no\r\n\r\n",
                  render, &*policy),
              HasSubstr("HTTP/1.1 403"));
  EXPECT_THAT(
      MetricsHttpServer::Answer("GET /metrics HTTP/1.1\r\nHost: x\r\n"
                                "Authorization:  Bearer scrape-token \r\n\r\n",
                                render, &*policy),
      HasSubstr("x 1\n"));
  // A header in the body part does not count.
  EXPECT_THAT(MetricsHttpServer::Answer(
                  "GET /metrics HTTP/1.1\r\n\r\nAuthorization: Bearer "
                  "scrape-token\r\n",
                  render, &*policy),
              HasSubstr("HTTP/1.1 401"));
}

}  // namespace
}  // namespace serval

namespace serval {
namespace {

TEST(HistogramTest, SumInSecondsHasNoNoiseDigits) {
  Histogram h({1}, 1e-9);
  h.Observe(87369);
  EXPECT_EQ(FormatValue(h.Snapshot().sum), "0.000087369");
  Histogram tiny({1}, 1e-9);
  tiny.Observe(951);
  EXPECT_EQ(FormatValue(tiny.Snapshot().sum), "9.51e-07");
}

}  // namespace
}  // namespace serval
