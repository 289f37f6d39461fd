#include "common/logging.h"

#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace serval {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};
std::atomic<bool> g_access_log{false};
// The request a line being formatted on this thread is about; set only for
// the duration of LogForRequest (spdlog formats synchronously on the
// calling thread with the synchronous sinks used here).
thread_local std::string_view t_request_id;
bool t_in_request_line = false;

void AppendJsonEscaped(std::string_view in, spdlog::memory_buf_t& out) {
  for (char c : in) {
    switch (c) {
      case '"':
        out.append(std::string_view("\\\""));
        break;
      case '\\':
        out.append(std::string_view("\\\\"));
        break;
      case '\n':
        out.append(std::string_view("\\n"));
        break;
      case '\r':
        out.append(std::string_view("\\r"));
        break;
      case '\t':
        out.append(std::string_view("\\t"));
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out.append(std::string_view(buf));
        } else {
          out.push_back(c);
        }
    }
  }
}

// %*: the message JSON-escaped, so JSON lines stay valid whatever is logged.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()),
                      dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

// %&: `"request_id":"<id>",` on lines about a request, nothing otherwise.
class JsonRequestIdFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (!t_in_request_line) return;
    dest.append(std::string_view("\"request_id\":\""));
    AppendJsonEscaped(t_request_id, dest);
    dest.append(std::string_view("\","));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonRequestIdFlag>();
  }
};

}  // namespace

absl::Status SetLogLevel(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when asked.
  if (parsed == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown log level '", ToAbsl(level),
                     "'; expected trace, debug, info, warn, error or off"));
  }
  spdlog::set_level(parsed);
  return absl::OkStatus();
}

std::string CurrentLogLevel() {
  // Report the names --log-level accepts ("warn", not spdlog's "warning").
  if (spdlog::get_level() == spdlog::level::warn) return "warn";
  auto sv = spdlog::level::to_string_view(spdlog::get_level());
  return std::string(sv.data(), sv.size());
}

int LogLevelRank(std::string_view level) {
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info",
                                                 "warn",  "error", "off"};
  for (int i = 0; i < 6; ++i) {
    if (kLevels[i] == level) return i;
  }
  return -1;
}

LogFormat CurrentLogFormat() { return g_format.load(); }

absl::Status InitLogging(std::string_view level, LogFormat format) {
  auto logger = spdlog::get("serval");
  if (!logger) logger = spdlog::stderr_logger_mt("serval");
  spdlog::set_default_logger(logger);
  g_format = format;
  if (format == LogFormat::kJson) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(
        spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('*');
    formatter->add_flag<JsonRequestIdFlag>('&');
    formatter->set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","thread":%t,%&"msg":"%*"})");
    spdlog::set_formatter(std::move(formatter));
  } else {
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%L%$ %t] %v");
  }
  spdlog::flush_on(spdlog::level::warn);
  return SetLogLevel(level);
}

void LogForRequest(spdlog::level::level_enum level, std::string_view request_id,
                   std::string_view message) {
  if (!spdlog::should_log(level)) return;
  const std::string_view id = request_id.empty() ? "-" : request_id;
  if (g_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    t_request_id = id;
    t_in_request_line = true;
    spdlog::log(level, "{}", message);
    t_in_request_line = false;
    t_request_id = {};
    return;
  }
  spdlog::log(level, "[request {}] {}", id, message);
}

void SetAccessLogEnabled(bool enabled) { g_access_log.store(enabled); }

bool AccessLogEnabled() { return g_access_log.load(std::memory_order_relaxed); }

void LogAccess(std::string_view request_id, std::string_view model,
               int64_t version, const absl::Status& status,
               uint64_t latency_ns) {
  const std::string code = absl::StatusCodeToString(status.code());
  LogForRequest(
      spdlog::level::info, request_id,
      fmt::format("access model={} version={} status={} latency_us={:.1f}",
                  model, version, code,
                  static_cast<double>(latency_ns) / 1000.0));
}

}  // namespace serval
