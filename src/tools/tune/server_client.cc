#include "tools/tune/server_client.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "config/config_json.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tools/perf/http_transport.h"

namespace serval::tune {
namespace {

// A load may compile or initialise a large model: minutes, not seconds.
constexpr int kLoadTimeoutS = 600;
constexpr int kCallTimeoutS = 30;

std::string ModelPath(const std::string& model) {
  return absl::StrCat("/v2/models/", model);
}

// The server's error message from a KServe error body, else the body.
std::string ErrorText(int status, const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (!d.HasParseError() && d.IsObject() && d.HasMember("error") &&
      d["error"].IsString()) {
    return absl::StrCat("HTTP ", status, ": ", d["error"].GetString());
  }
  return absl::StrCat("HTTP ", status, ": ", body.substr(0, 300));
}

}  // namespace

absl::Status ServerClient::CheckLive() {
  ASSIGN_OR_RETURN(auto r, perf::HttpGet(host_, http_port_, "/v2/health/live"));
  if (r.first != 200) {
    return absl::UnavailableError(
        absl::StrCat(host_, ":", http_port_, " is not live (",
                     ErrorText(r.first, r.second), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<inference::ModelConfig> ServerClient::GetConfig(
    const std::string& model) {
  ASSIGN_OR_RETURN(
      auto r, perf::HttpGet(host_, http_port_, ModelPath(model) + "/config"));
  if (r.first != 200) {
    return absl::NotFoundError(absl::StrCat(
        "configuration of '", model, "': ", ErrorText(r.first, r.second)));
  }
  return ModelConfigFromJson(r.second,
                             absl::StrCat("configuration of '", model, "'"));
}

absl::StatusOr<std::set<std::string>> ServerClient::ReadyModels() {
  ASSIGN_OR_RETURN(
      auto r, perf::HttpCall(host_, http_port_, "POST", "/v2/repository/index",
                             "{}", kCallTimeoutS));
  if (r.first != 200) {
    return absl::UnavailableError(
        absl::StrCat("repository index: ", ErrorText(r.first, r.second),
                     " (is the server in explicit model control mode?)"));
  }
  rapidjson::Document d;
  d.Parse(r.second.c_str(), r.second.size());
  if (d.HasParseError() || !d.IsArray()) {
    return absl::InternalError("repository index: not a JSON array");
  }
  std::set<std::string> ready;
  for (const auto& m : d.GetArray()) {
    if (m.IsObject() && m.HasMember("name") && m["name"].IsString() &&
        m.HasMember("state") && m["state"].IsString() &&
        std::string(m["state"].GetString()) == "READY") {
      ready.insert(m["name"].GetString());
    }
  }
  return ready;
}

absl::Status ServerClient::Load(const std::string& model,
                                const std::string& config_json) {
  std::string body = "{}";
  if (!config_json.empty()) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    w.Key("parameters");
    w.StartObject();
    w.Key("config");
    w.String(config_json.c_str(),
             static_cast<rapidjson::SizeType>(config_json.size()));
    w.EndObject();
    w.EndObject();
    body.assign(b.GetString(), b.GetSize());
  }
  ASSIGN_OR_RETURN(auto r, perf::HttpCall(host_, http_port_, "POST",
                                          absl::StrCat("/v2/repository/models/",
                                                       model, "/load"),
                                          body, kLoadTimeoutS));
  if (r.first != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("load '", model, "': ", ErrorText(r.first, r.second)));
  }
  return absl::OkStatus();
}

absl::Status ServerClient::Unload(const std::string& model) {
  ASSIGN_OR_RETURN(auto r, perf::HttpCall(host_, http_port_, "POST",
                                          absl::StrCat("/v2/repository/models/",
                                                       model, "/unload"),
                                          "{}", kLoadTimeoutS));
  if (r.first != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("unload '", model, "': ", ErrorText(r.first, r.second)));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ServerClient::Ready(const std::string& model) {
  ASSIGN_OR_RETURN(
      auto r, perf::HttpGet(host_, http_port_, ModelPath(model) + "/ready"));
  return r.first == 200;
}

absl::StatusOr<ProcessFigures> ServerClient::Process() {
  if (metrics_port_ <= 0) return absl::UnavailableError("no metrics port");
  ASSIGN_OR_RETURN(auto r,
                   perf::HttpGet(metrics_host_, metrics_port_, "/metrics"));
  if (r.first != 200) {
    return absl::UnavailableError(absl::StrCat("GET /metrics: HTTP ", r.first));
  }
  ProcessFigures p;
  ASSIGN_OR_RETURN(p.resident_bytes,
                   PrometheusValue(r.second, "process_resident_memory_bytes"));
  ASSIGN_OR_RETURN(p.cpu_seconds,
                   PrometheusValue(r.second, "process_cpu_seconds_total"));
  return p;
}

absl::StatusOr<double> PrometheusValue(const std::string& text,
                                       const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    if (line.empty() || (line[0] != ' ' && line[0] != '{')) continue;
    // Unlabelled, or labels we ignore: the value follows the last space
    // before an optional timestamp.
    if (line[0] == '{') {
      const size_t close = line.find('}');
      if (close == absl::string_view::npos) continue;
      line.remove_prefix(close + 1);
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(absl::StripAsciiWhitespace(line), ' ');
    double v = 0;
    if (!fields.empty() && absl::SimpleAtod(fields[0], &v)) return v;
  }
  return absl::NotFoundError(absl::StrCat("no sample '", name, "'"));
}

}  // namespace serval::tune
