#include "server/trace.h"

#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "tensor/shape.h"

namespace serval {
namespace {

bool Has(const std::vector<std::string>& level, std::string_view what) {
  for (const auto& l : level) {
    if (l == what) return true;
  }
  return false;
}

bool Traces(const TraceSettings& s) {
  return !Has(s.level, "OFF") && !s.level.empty() && s.rate > 0 &&
         s.count != 0 && !s.file.empty();
}

// A JSON string literal (the names and ids traced are the request's).
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

template <typename T>
void JoinValues(const char* data, size_t count, std::string* out) {
  for (size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, data + i * sizeof(T), sizeof(T));
    if (i > 0) *out += ",";
    if constexpr (sizeof(T) == 1) {
      absl::StrAppend(out, static_cast<int>(v));
    } else {
      absl::StrAppend(out, v);
    }
  }
}

// Triton's rendering of tensor data: values joined by commas; BYTES as
// quoted strings; FP16/BF16 left empty.
std::string TensorText(DataType type, const char* data, size_t bytes) {
  std::string out;
  const size_t n = ElementSize(type) > 0 ? bytes / ElementSize(type) : 0;
  switch (type) {
    case DataType::kBool:
      JoinValues<uint8_t>(data, n, &out);
      break;
    case DataType::kUint8:
      JoinValues<uint8_t>(data, n, &out);
      break;
    case DataType::kUint16:
      JoinValues<uint16_t>(data, n, &out);
      break;
    case DataType::kUint32:
      JoinValues<uint32_t>(data, n, &out);
      break;
    case DataType::kUint64:
      JoinValues<uint64_t>(data, n, &out);
      break;
    case DataType::kInt8:
      JoinValues<int8_t>(data, n, &out);
      break;
    case DataType::kInt16:
      JoinValues<int16_t>(data, n, &out);
      break;
    case DataType::kInt32:
      JoinValues<int32_t>(data, n, &out);
      break;
    case DataType::kInt64:
      JoinValues<int64_t>(data, n, &out);
      break;
    case DataType::kFp32:
      JoinValues<float>(data, n, &out);
      break;
    case DataType::kFp64:
      JoinValues<double>(data, n, &out);
      break;
    case DataType::kBytes: {
      size_t pos = 0;
      bool first = true;
      while (pos + 4 <= bytes) {
        uint32_t len;
        std::memcpy(&len, data + pos, 4);
        pos += 4;
        if (pos + len > bytes) break;
        absl::StrAppend(&out, first ? "" : ",", "\"",
                        absl::string_view(data + pos, len), "\"");
        first = false;
        pos += len;
      }
      break;
    }
    default:
      break;
  }
  return out;
}

std::string TensorObject(uint64_t id, std::string_view activity,
                         const std::string& name, DataType type,
                         const Shape& shape, const char* data, size_t bytes) {
  return absl::StrCat("{\"id\":", id, ",\"activity\":", Quoted(activity),
                      ",\"tensor\":{\"name\":", Quoted(name),
                      ",\"data\":", Quoted(TensorText(type, data, bytes)),
                      ",\"shape\":", Quoted(absl::StrJoin(shape, ",")),
                      ",\"dtype\":", Quoted(ApiName(type)), "}}");
}

absl::StatusOr<uint64_t> ParseNumber(const TraceSettingUpdate& u, int64_t min,
                                     int64_t max) {
  if (u.values.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("expect only 1 value for '", u.key, "'"));
  }
  const std::string& text = u.values[0];
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Unable to parse '", u.key, "', got: ", text));
  }
  if (v < min || v > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("Unable to parse '", u.key, "', value is out of range [ ",
                     min, ", ", max, " ], got: ", text));
  }
  return static_cast<uint64_t>(v);
}

}  // namespace

// The sampling counters of one scope, and its settings resolved once per
// change so that sampling a request builds nothing.
struct TraceManager::Sink {
  uint64_t seen = 0;  // requests considered, for the rate
  int64_t left = -1;  // traces left (-1 unlimited)
  bool on = false;    // level, rate and file say trace (count aside)
  uint32_t rate = 1;
  bool tensors = false;
};

// One trace file, shared by every scope naming it, open for the manager's
// lifetime so that a settings change appends instead of truncating.
struct TraceManager::TraceFile {
  // log_frequency 0: the one file, kept a complete JSON array after each
  // trace (the closing "]\n" is overwritten by the next one).
  std::fstream single;
  bool single_started = false;
  // log_frequency N: the objects of the numbered file being filled.
  std::string pending;
  uint32_t in_pending = 0;
  uint32_t index = 0;
};

TraceManager::TraceManager(TraceSettings initial) {
  absl::MutexLock lock(&mu_);
  global_.level = initial.level;
  global_.rate = initial.rate;
  global_.count = initial.count;
  global_.log_frequency = initial.log_frequency;
  global_.file = initial.file;
  RefreshActiveLocked();
}

TraceManager::~TraceManager() {
  absl::MutexLock lock(&mu_);
  // Numbered files still filling are written as they are.
  for (auto& [name, file] : files_) {
    if (!file->pending.empty()) {
      std::ofstream f(absl::StrCat(name, ".", file->index));
      f << "[" << file->pending << "]\n";
    }
  }
}

TraceSettings TraceManager::EffectiveLocked(std::string_view model) const {
  TraceSettings s;
  s.level = global_.level.value_or(std::vector<std::string>{"OFF"});
  s.rate = global_.rate.value_or(1000);
  s.count = global_.count.value_or(-1);
  s.log_frequency = global_.log_frequency.value_or(0);
  s.file = global_.file.value_or("");
  if (!model.empty()) {
    auto it = models_.find(model);
    if (it != models_.end()) {
      const Scope& m = it->second;
      if (m.level) s.level = *m.level;
      if (m.rate) s.rate = *m.rate;
      if (m.count) s.count = *m.count;
      if (m.log_frequency) s.log_frequency = *m.log_frequency;
      if (m.file) s.file = *m.file;
    }
  }
  // The remaining count is what a client sees.
  auto sink = sinks_.find(models_.count(model) > 0 ? model : "");
  if (sink != sinks_.end() && s.count >= 0) s.count = sink->second->left;
  return s;
}

TraceManager::Sink& TraceManager::SinkForLocked(std::string_view model) {
  const std::string_view key = models_.count(model) > 0 ? model : "";
  if (auto it = sinks_.find(key); it != sinks_.end()) return *it->second;
  auto& slot = sinks_[std::string(key)];
  {
    slot = std::make_unique<Sink>();
    const Scope& scope = key.empty() ? global_ : models_.find(key)->second;
    slot->left = scope.count.value_or(global_.count.value_or(-1));
    ResolveLocked(key, slot.get());
  }
  return *slot;
}

void TraceManager::ResolveLocked(std::string_view key, Sink* sink) const {
  TraceSettings s = EffectiveLocked(key);
  s.count = -1;  // the sink's own `left` decides that
  sink->on = Traces(s);
  sink->rate = s.rate > 0 ? s.rate : 1;
  sink->tensors = Has(s.level, "TENSORS");
}

void TraceManager::RefreshActiveLocked() {
  // A global change reaches the models that inherit from it.
  for (auto& [key, sink] : sinks_) ResolveLocked(key, sink.get());
  bool any = Traces(EffectiveLocked(""));
  for (const auto& [name, scope] : models_)
    any = any || Traces(EffectiveLocked(name));
  active_.store(any, std::memory_order_relaxed);
}

uint64_t TraceManager::Sample(std::string_view model) {
  absl::MutexLock lock(&mu_);
  Sink& sink = SinkForLocked(model);
  if (!sink.on || sink.left == 0) return 0;
  if (++sink.seen % sink.rate != 0) return 0;
  if (sink.left > 0) --sink.left;
  if (sink.left == 0) RefreshActiveLocked();
  return ++next_id_;
}

bool TraceManager::WantsTensors(std::string_view model) const {
  absl::MutexLock lock(&mu_);
  auto it = sinks_.find(models_.count(model) > 0 ? model : "");
  if (it != sinks_.end()) return it->second->tensors;
  return Has(EffectiveLocked(model).level, "TENSORS");
}

void TraceManager::RecordInputs(uint64_t id,
                                const std::vector<TensorView>& inputs) {
  std::string objects;
  for (const TensorView& in : inputs) {
    absl::StrAppend(&objects, ",",
                    TensorObject(id, "TENSOR_QUEUE_INPUT", in.name, in.datatype,
                                 in.shape, in.data, in.byte_size));
  }
  absl::MutexLock lock(&mu_);
  pending_tensors_[id] = std::move(objects);
}

void TraceManager::Finish(uint64_t id, std::string_view model, int64_t version,
                          std::string_view request_id, const TraceTimestamps& t,
                          const std::vector<OutputTensor>* outputs) {
  std::string objects = absl::StrCat(
      "{\"id\":", id, ",\"model_name\":", Quoted(model),
      ",\"model_version\":", version,
      request_id.empty() ? ""
                         : absl::StrCat(",\"request_id\":", Quoted(request_id)),
      "}");
  const std::pair<const char*, uint64_t> stamps[] = {
      {"REQUEST_START", t.request_start},
      {"QUEUE_START", t.queue_start},
      {"COMPUTE_START", t.compute_start},
      {"COMPUTE_INPUT_END", t.compute_input_end},
      {"COMPUTE_OUTPUT_START", t.compute_output_start},
      {"COMPUTE_END", t.compute_end},
      {"REQUEST_END", t.request_end}};
  for (const auto& [name, ns] : stamps) {
    if (ns == 0) continue;  // not reached (a request refused early)
    absl::StrAppend(&objects, ",{\"id\":", id, ",\"timestamps\":[{\"name\":\"",
                    name, "\",\"ns\":", ns, "}]}");
  }
  absl::MutexLock lock(&mu_);
  auto tensors = pending_tensors_.find(id);
  if (tensors != pending_tensors_.end()) {
    objects += tensors->second;
    pending_tensors_.erase(tensors);
    if (outputs != nullptr) {
      for (const OutputTensor& o : *outputs) {
        absl::StrAppend(
            &objects, ",",
            TensorObject(id, "TENSOR_BACKEND_OUTPUT", o.name, o.datatype,
                         o.shape, o.data.data(), o.data.size()));
      }
    }
  }
  WriteLocked(EffectiveLocked(model), objects);
}

void TraceManager::WriteLocked(const TraceSettings& s,
                               const std::string& objects) {
  if (s.file.empty()) return;
  auto& slot = files_[s.file];
  if (!slot) slot = std::make_unique<TraceFile>();
  TraceFile& file = *slot;
  if (s.log_frequency == 0) {
    if (!file.single.is_open()) {
      file.single.open(s.file,
                       std::ios::out | std::ios::trunc | std::ios::binary);
    }
    if (!file.single) {
      spdlog::error("trace: cannot write {}", s.file);
      return;
    }
    if (file.single_started) {
      file.single.seekp(-2, std::ios::end);  // over "]\n"
      file.single << ",";
    } else {
      file.single << "[";
      file.single_started = true;
    }
    file.single << objects << "]\n";
    file.single.flush();
    return;
  }
  absl::StrAppend(&file.pending, file.in_pending == 0 ? "" : ",", objects);
  if (++file.in_pending >= s.log_frequency) {
    const std::string name = absl::StrCat(s.file, ".", file.index);
    std::ofstream f(name, std::ios::trunc | std::ios::binary);
    f << "[" << file.pending << "]\n";
    if (!f) spdlog::error("trace: cannot write {}", name);
    file.pending.clear();
    file.in_pending = 0;
    ++file.index;
  }
}

TraceSettings TraceManager::Get(std::string_view model) const {
  absl::MutexLock lock(&mu_);
  return EffectiveLocked(model);
}

absl::StatusOr<TraceSettings> TraceManager::Update(
    std::string_view model, const std::vector<TraceSettingUpdate>& updates) {
  absl::MutexLock lock(&mu_);
  Scope scope;
  if (model.empty()) {
    scope = global_;
  } else if (auto it = models_.find(model); it != models_.end()) {
    scope = it->second;
  }
  for (const TraceSettingUpdate& u : updates) {
    if (u.key == "trace_level") {
      if (u.clear) {
        scope.level.reset();
        continue;
      }
      std::vector<std::string> level;
      for (const std::string& v : u.values) {
        if (v == "OFF" && u.values.size() > 1) {
          return absl::InvalidArgumentError(
              "Expect only one trace level 'OFF' is specified");
        }
        if (v != "OFF" && v != "TIMESTAMPS" && v != "TENSORS") {
          return absl::InvalidArgumentError(
              absl::StrCat("unknown trace_level '", v,
                           "'; expected OFF, TIMESTAMPS or TENSORS"));
        }
      }
      for (const char* known : {"OFF", "TIMESTAMPS", "TENSORS"}) {
        if (Has(u.values, known)) level.push_back(known);
      }
      scope.level = level.empty() ? std::vector<std::string>{"OFF"} : level;
    } else if (u.key == "trace_rate") {
      if (u.clear) {
        scope.rate.reset();
        continue;
      }
      auto v = ParseNumber(u, 0, UINT32_MAX);
      if (!v.ok()) return v.status();
      scope.rate = static_cast<uint32_t>(*v);
    } else if (u.key == "trace_count") {
      if (u.clear) {
        scope.count.reset();
        continue;
      }
      auto v = ParseNumber(u, -1, INT32_MAX);
      if (!v.ok()) return v.status();
      scope.count = static_cast<int64_t>(*v);
    } else if (u.key == "log_frequency") {
      if (u.clear) {
        scope.log_frequency.reset();
        continue;
      }
      auto v = ParseNumber(u, 0, UINT32_MAX);
      if (!v.ok()) return v.status();
      scope.log_frequency = static_cast<uint32_t>(*v);
    } else if (u.key == "trace_file") {
      // Triton refuses it too: a client must not choose where the server
      // writes files.
      return absl::UnimplementedError(
          "trace file location can not be updated through network protocol");
    } else if (u.key == "trace_mode") {
      if (u.clear || (u.values.size() == 1 && u.values[0] == "triton"))
        continue;
      return absl::InvalidArgumentError(
          "only trace_mode 'triton' is supported (JSON trace files)");
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown trace setting '", u.key, "'"));
    }
  }
  if (scope.rate && *scope.rate == 0 && scope.level &&
      !Has(*scope.level, "OFF")) {
    return absl::InvalidArgumentError(
        "Attempting to set invalid trace setting :sample rate must be "
        "non-zero");
  }
  // Applied: a new scope starts new counters and files.
  const std::string key(model);
  if (model.empty()) {
    global_ = std::move(scope);
  } else {
    models_[key] = std::move(scope);
  }
  sinks_.erase(key);
  RefreshActiveLocked();
  return EffectiveLocked(model);
}

absl::StatusOr<TraceSettings> ParseTraceConfig(
    const std::vector<std::string>& flags) {
  std::vector<TraceSettingUpdate> updates;
  TraceSettingUpdate level{"trace_level", false, {}};
  std::string file;
  for (const std::string& flag : flags) {
    std::string_view text = flag;
    // Triton's form "<mode>,<key>=<value>" names the trace mode first.
    if (text.substr(0, 7) == "triton,") text.remove_prefix(7);
    const size_t eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--trace-config '", flag, "': expected <setting>=<value>"));
    }
    std::string key(text.substr(0, eq));
    std::string value(text.substr(eq + 1));
    if (key.rfind("trace_", 0) == 0) key = key.substr(6);
    if (key == "file") {
      file = value;
    } else if (key == "level") {
      level.values.push_back(value);
    } else if (key == "rate" || key == "count") {
      updates.push_back({"trace_" + key, false, {value}});
    } else if (key == "log_frequency" || key == "mode") {
      updates.push_back({key == "mode" ? "trace_mode" : key, false, {value}});
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--trace-config '", flag,
          "': unknown setting; expected level, rate, count, log_frequency, "
          "file or mode"));
    }
  }
  if (!level.values.empty()) updates.push_back(level);
  // The run-time update path checks every value the same way; it only
  // refuses the file, which a client may not choose but the operator may.
  TraceManager probe(TraceSettings{});
  ASSIGN_OR_RETURN(TraceSettings settings, probe.Update("", updates),
                   Annotate(_, "--trace-config"));
  settings.file = file;
  if (!Has(settings.level, "OFF") && file.empty()) {
    return absl::InvalidArgumentError(
        "--trace-config: tracing is on but no file=<path> is given");
  }
  return settings;
}

}  // namespace serval
