#include "python_instance.h"

#include <stdexcept>

#include "batch_codec.h"
#include "frame_channel.h"
#include "serval/backend_util.h"
#include "stub_json.h"
#include "tensor_json.h"

namespace serval::python {
namespace {

using backend_util::ErrorFromCurrent;
using backend_util::HostError;
using backend_util::PluginError;
using Writer = JsonWriter;

// How long finalize() may take when an instance ends.
constexpr int kFinalizeTimeoutMs = 10'000;

std::string JsonString(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "";
  return v[key].GetString();
}

// pb_utils.TritonError codes for a status code.
int TritonCode(int32_t code) {
  switch (code) {
    case SERVAL_NOT_FOUND:
      return 2;
    case SERVAL_INVALID_ARGUMENT:
      return 3;
    case SERVAL_UNAVAILABLE:
    case SERVAL_RESOURCE_EXHAUSTED:
    case SERVAL_DEADLINE_EXCEEDED:
      return 4;
    case SERVAL_UNIMPLEMENTED:
      return 5;
    case SERVAL_ALREADY_EXISTS:
      return 6;
    case SERVAL_CANCELLED:
      return 7;
    default:
      return 1;
  }
}

// One BLS call in flight: where its answer goes.
struct BlsCall {
  const ServalHostApi* host;
  std::shared_ptr<StubSender> sender;
  uint64_t id;
};

void SendBlsError(StubSender& sender, uint64_t id, int code,
                  const std::string& message) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("op");
  w.String("bls_result");
  w.Key("call");
  w.Uint64(id);
  w.Key("error");
  w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  w.Key("code");
  w.Int(code);
  w.EndObject();
  sender.Send(std::string_view(sb.GetString(), sb.GetSize()));
}

void OnBlsDone(void* context, const ServalError* error,
               const ServalTensor* outputs, uint32_t count) {
  std::unique_ptr<BlsCall> call(static_cast<BlsCall*>(context));
  if (error != nullptr) {
    SendBlsError(*call->sender, call->id,
                 TritonCode(call->host->error_code(error)),
                 call->host->error_message(error));
    return;
  }
  rapidjson::StringBuffer sb;
  Writer w(sb);
  std::string payload;
  w.StartObject();
  w.Key("op");
  w.String("bls_result");
  w.Key("call");
  w.Uint64(call->id);
  w.Key("outputs");
  w.StartArray();
  for (uint32_t i = 0; i < count; ++i) {
    const ServalTensor& t = outputs[i];
    WriteTensorSpec(w, t.name, t.datatype, t.shape, t.rank, -1, payload.size(),
                    t.byte_size);
    payload.append(static_cast<const char*>(t.data), t.byte_size);
  }
  w.EndArray();
  w.EndObject();
  call->sender->Send(std::string_view(sb.GetString(), sb.GetSize()), payload);
}

}  // namespace

bool StubSender::Send(std::string_view json, std::string_view payload) {
  std::lock_guard<std::mutex> lock(mu);
  return channel != nullptr && channel->Send(json, payload);
}

void PythonInstance::HandleBls(const Frame& frame, ServalBatch* batch) {
  rapidjson::Document d;
  d.Parse(frame.json.data(), frame.json.size());
  const uint64_t id =
      d.HasMember("call") && d["call"].IsUint64() ? d["call"].GetUint64() : 0;
  if (batch == nullptr || !SERVAL_HOST_HAS(host_, infer)) {
    SendBlsError(*sender_, id, 5,
                 batch == nullptr
                     ? "BLS calls can be made inside execute() only"
                     : "this server does not offer BLS calls");
    return;
  }
  const std::string model = JsonString(d, "model");
  const std::string request_id = JsonString(d, "request_id");
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<ServalTensor> inputs;
  const auto& in = d["inputs"].GetArray();
  names.reserve(in.Size());
  shapes.reserve(in.Size());
  for (const auto& t : in) {
    const uint64_t offset = t["offset"].GetUint64();
    const uint64_t size = t["size"].GetUint64();
    if (offset + size > frame.payload.size() || offset + size < offset) {
      SendBlsError(*sender_, id, 3, "a BLS input lies outside its message");
      return;
    }
    names.emplace_back(t["name"].GetString());
    shapes.emplace_back();
    for (const auto& dim : t["shape"].GetArray()) {
      shapes.back().push_back(dim.GetInt64());
    }
    const int32_t type = TypeFromName(t["datatype"].GetString());
    inputs.push_back({names.back().c_str(), type, shapes.back().data(),
                      static_cast<uint32_t>(shapes.back().size()),
                      frame.payload.data() + offset, size});
  }
  std::vector<std::string> wanted;
  for (const auto& o : d["outputs"].GetArray())
    wanted.emplace_back(o.GetString());
  std::vector<const char*> wanted_ptrs;
  for (const auto& o : wanted) wanted_ptrs.push_back(o.c_str());
  ServalInferRequest request{};
  request.model_name = model.c_str();
  request.model_version = d.HasMember("version") && d["version"].IsInt64()
                              ? d["version"].GetInt64()
                              : -1;
  request.request_id = request_id.c_str();
  request.timeout_us = d.HasMember("timeout_us") && d["timeout_us"].IsUint64()
                           ? d["timeout_us"].GetUint64()
                           : 0;
  request.inputs = inputs.data();
  request.input_count = static_cast<uint32_t>(inputs.size());
  request.outputs = wanted_ptrs.data();
  request.output_count = static_cast<uint32_t>(wanted_ptrs.size());
  std::string parameters;
  if (d.HasMember("parameters") && d["parameters"].IsObject()) {
    rapidjson::StringBuffer sb;
    Writer pw(sb);
    d["parameters"].Accept(pw);
    parameters.assign(sb.GetString(), sb.GetSize());
    request.parameters_json = parameters.c_str();
  }
  host_->infer(batch, &request, &OnBlsDone, new BlsCall{host_, sender_, id});
}

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
  if (Send(R"({"op":"finalize"})")) {
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
  DropStub();
}

void PythonInstance::DropStub() {
  {
    std::lock_guard<std::mutex> lock(sender_->mu);
    sender_->channel = nullptr;  // late BLS answers go nowhere
  }
  stub_.reset();
}

std::string PythonInstance::Label() const {
  return "python model '" + model_->name + "' instance " +
         std::to_string(index_);
}

void PythonInstance::Start() {
  stub_ = std::make_unique<StubProcess>(model_->StubArgv(), inputs_.fd(),
                                        outputs_.fd());
  {
    std::lock_guard<std::mutex> lock(sender_->mu);
    sender_->channel = &stub_->channel();
  }
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
  if (!Send(std::string_view(sb.GetString(), sb.GetSize()))) {
    StubFailed("could not be reached to initialize");
  }
  const std::string reply = AwaitReply(
      MonotonicNowNs() + model_->init_timeout_ms * 1'000'000ull, "initialize");
  rapidjson::Document d;
  d.Parse(reply.data(), reply.size());
  if (JsonString(d, "op") != "ready") {
    const std::string trace = JsonString(d, "message");
    stub_->WaitForExit(2000);
    DropStub();
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
  DropStub();
  const std::string message =
      "its Python stub " + what + " (the process " + how +
      "); the requests it was running failed and a new stub will be started";
  backend_util::Log(host_, SERVAL_LOG_ERROR, Label() + ": " + message);
  throw PluginError(SERVAL_UNAVAILABLE, message);
}

std::string PythonInstance::AwaitReply(uint64_t deadline_ns, const char* doing,
                                       ServalBatch* batch) {
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
    if (frame.json.rfind("{\"op\":\"bls\"", 0) == 0) {
      HandleBls(frame, batch);
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
  if (!Send(message)) StubFailed("could not be reached");
  const uint64_t sent_ns = MonotonicNowNs();
  // The stub has until the batch's deadline, or the model's bound.
  uint64_t deadline = SERVAL_HOST_HAS(host_, batch_deadline_ns)
                          ? host_->batch_deadline_ns(batch)
                          : 0;
  if (deadline == 0)
    deadline = sent_ns + model_->execute_timeout_ms * 1'000'000ull;
  const std::string reply = AwaitReply(deadline, "execute", batch);
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
