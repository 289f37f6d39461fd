#include "python_instance.h"
// stub_json.h first: it sets how RapidJSON fails.
#include <stdexcept>

#include "batch_codec.h"
#include "frame_channel.h"
#include "serval/backend_util.h"
#include "stub_json.h"

namespace serval::python {
namespace {

using backend_util::ErrorFromCurrent;
using backend_util::HostError;
using backend_util::PluginError;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// How long finalize() may take when an instance ends.
constexpr int kFinalizeTimeoutMs = 10'000;

std::string JsonString(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "";
  return v[key].GetString();
}

}  // namespace

PythonInstance::PythonInstance(const ServalHostApi* host,
                               const PythonModel* model, int32_t kind,
                               int32_t device_id, uint32_t index)
    : host_(host),
      model_(model),
      kind_(kind),
      device_id_(device_id),
      index_(index),
      inputs_("serval-py-in"),
      outputs_("serval-py-out") {}

PythonInstance::~PythonInstance() {
  if (stub_ == nullptr) return;
  // finalize(), bounded: a model that hangs there is killed.
  if (stub_->channel().Send(R"({"op":"finalize"})")) {
    try {
      const std::string reply = AwaitReply(
          MonotonicNowNs() + kFinalizeTimeoutMs * 1'000'000ull, "finalize");
      rapidjson::Document d;
      d.Parse(reply.data(), reply.size());
      const std::string trace = JsonString(d, "message");
      if (!trace.empty()) {
        backend_util::Log(host_, SERVAL_LOG_WARNING,
                          Label() + ": finalize() raised:\n" + trace);
      }
    } catch (...) {
      // Already logged by StubFailed; the stub is gone either way.
    }
  }
  if (stub_ != nullptr && !stub_->WaitForExit(2000)) stub_->Kill();
  stub_.reset();
}

std::string PythonInstance::Label() const {
  return "python model '" + model_->name + "' instance " +
         std::to_string(index_);
}

void PythonInstance::Start() {
  stub_ = std::make_unique<StubProcess>(model_->StubArgv(), inputs_.fd(),
                                        outputs_.fd());
  // The arguments Triton gives initialize(), all strings.
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("op");
  w.String("init");
  w.Key("args");
  w.StartObject();
  const auto put = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  put("model_config", model_->config_json);
  put("model_instance_kind", kind_ == SERVAL_INSTANCE_GPU ? "GPU" : "CPU");
  put("model_instance_name", model_->name + "_" + std::to_string(index_));
  // Triton gives CPU instances device 0.
  put("model_instance_device_id",
      std::to_string(device_id_ < 0 ? 0 : device_id_));
  put("model_repository", model_->repository);
  put("model_version", std::to_string(model_->version));
  put("model_name", model_->name);
  w.EndObject();
  w.EndObject();
  if (!stub_->channel().Send(std::string_view(sb.GetString(), sb.GetSize()))) {
    StubFailed("could not be reached to initialize");
  }
  const std::string reply = AwaitReply(
      MonotonicNowNs() + model_->init_timeout_ms * 1'000'000ull, "initialize");
  rapidjson::Document d;
  d.Parse(reply.data(), reply.size());
  if (JsonString(d, "op") != "ready") {
    const std::string trace = JsonString(d, "message");
    stub_->WaitForExit(2000);
    stub_.reset();
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "initialize() failed:\n" + trace);
  }
}

void PythonInstance::HandleLog(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (!d.IsObject()) return;
  const int level =
      d.HasMember("level") && d["level"].IsInt() ? d["level"].GetInt() : 0;
  // pb_utils.Logger levels: INFO 0, WARNING 1, ERROR 2, VERBOSE 3.
  const ServalLogLevel serval_level = level == 1   ? SERVAL_LOG_WARNING
                                      : level == 2 ? SERVAL_LOG_ERROR
                                      : level == 3 ? SERVAL_LOG_DEBUG
                                                   : SERVAL_LOG_INFO;
  std::string ids;
  if (d.HasMember("request_ids") && d["request_ids"].IsArray()) {
    for (const auto& id : d["request_ids"].GetArray()) {
      if (!id.IsString() || id.GetStringLength() == 0) continue;
      ids += ids.empty() ? "" : ",";
      ids += id.GetString();
    }
  }
  backend_util::Log(host_, serval_level,
                    Label() + (ids.empty() ? "" : " (request " + ids + ")") +
                        ": " + JsonString(d, "message"));
}

void PythonInstance::StubFailed(const std::string& what) {
  // The stub is dead or no longer trusted: make sure it is gone, so the
  // next batch starts a fresh one.
  stub_->Kill();
  const std::string how = stub_->ExitDescription();
  stub_.reset();
  const std::string message =
      "its Python stub " + what + " (the process " + how +
      "); the requests it was running failed and a new stub will be started";
  backend_util::Log(host_, SERVAL_LOG_ERROR, Label() + ": " + message);
  throw PluginError(SERVAL_UNAVAILABLE, message);
}

std::string PythonInstance::AwaitReply(uint64_t deadline_ns,
                                       const char* doing) {
  Frame frame;
  while (true) {
    switch (stub_->channel().Receive(&frame, deadline_ns)) {
      case ReceiveResult::kTimeout:
        StubFailed(std::string("did not finish ") + doing + " in time");
      case ReceiveResult::kClosed: {
        // Give it a moment to be reaped, so the exit status is known.
        stub_->WaitForExit(500);
        StubFailed(std::string("ended during ") + doing);
      }
      case ReceiveResult::kFrame:
        break;
    }
    // Log lines arrive while the model runs; everything else is the reply.
    if (frame.json.rfind("{\"op\":\"log\"", 0) == 0) {
      HandleLog(frame.json);
      continue;
    }
    return std::move(frame.json);
  }
}

void PythonInstance::Run(ServalBatch* batch) {
  if (stub_ == nullptr) Start();
  RequestRows rows;
  const std::string message =
      EncodeExecute(*host_, batch, *model_, &inputs_, &rows);
  if (!stub_->channel().Send(message)) StubFailed("could not be reached");
  const uint64_t sent_ns = MonotonicNowNs();
  // The stub has until the batch's deadline, or the model's bound.
  uint64_t deadline = SERVAL_HOST_HAS(host_, batch_deadline_ns)
                          ? host_->batch_deadline_ns(batch)
                          : 0;
  if (deadline == 0)
    deadline = sent_ns + model_->execute_timeout_ms * 1'000'000ull;
  const std::string reply = AwaitReply(deadline, "execute");
  const uint64_t answered_ns = MonotonicNowNs();
  rapidjson::Document d;
  d.Parse(reply.data(), reply.size());
  const std::string error = JsonString(d, "error");
  if (!error.empty()) {
    const std::string trace = JsonString(d, "traceback");
    if (!trace.empty()) {
      backend_util::Log(host_, SERVAL_LOG_ERROR,
                        Label() + ": execute() raised:\n" + trace);
    }
    throw PluginError(SERVAL_INTERNAL, "execute() raised " + error);
  }
  ApplyResult(*host_, batch, *model_, reply, &outputs_, rows);
  host_->batch_report_times(batch, sent_ns, answered_ns);
}

void PythonInstance::Execute(ServalBatch* batch) {
  ServalError* error = nullptr;
  try {
    Run(batch);
  } catch (const HostError& e) {
    error = e.error;
  } catch (...) {
    error = ErrorFromCurrent(*host_, Label());
  }
  host_->batch_complete(batch, error);
}

}  // namespace serval::python
