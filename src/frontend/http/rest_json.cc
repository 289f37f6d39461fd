#include "frontend/http/rest_json.h"

#include <simdjson.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "config/config_json.h"
#include "frontend/http/json_writer.h"

namespace serval::http {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

void WriteTensors(JsonWriter& w, std::string_view key,
                  const std::vector<TensorMetadata>& tensors) {
  WriteKey(w, key);
  w.StartArray();
  for (const TensorMetadata& t : tensors) {
    w.StartObject();
    WriteKey(w, "name");
    WriteString(w, t.name);
    WriteKey(w, "datatype");
    WriteString(w, ApiName(t.datatype));
    WriteKey(w, "shape");
    w.StartArray();
    for (int64_t d : t.shape) w.Int64(d);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

void WriteDuration(JsonWriter& w, std::string_view key, const DurationStat& d) {
  WriteKey(w, key);
  w.StartObject();
  WriteKey(w, "count");
  w.Uint64(d.count);
  WriteKey(w, "ns");
  w.Uint64(d.ns);
  w.EndObject();
}

void WriteOneModelStats(JsonWriter& w, const ModelStatistics& s) {
  w.StartObject();
  WriteKey(w, "name");
  WriteString(w, s.name);
  WriteKey(w, "version");
  WriteString(w, s.version);
  WriteKey(w, "last_inference");
  w.Uint64(s.last_inference_ms);
  WriteKey(w, "inference_count");
  w.Uint64(s.inference_count);
  WriteKey(w, "execution_count");
  w.Uint64(s.execution_count);
  WriteKey(w, "inference_stats");
  w.StartObject();
  const InferStatistics& i = s.inference_stats;
  WriteDuration(w, "success", i.success);
  WriteDuration(w, "fail", i.fail);
  WriteDuration(w, "queue", i.queue);
  WriteDuration(w, "compute_input", i.compute_input);
  WriteDuration(w, "compute_infer", i.compute_infer);
  WriteDuration(w, "compute_output", i.compute_output);
  w.EndObject();
  WriteKey(w, "batch_stats");
  w.StartArray();
  for (const BatchStatistics& b : s.batch_stats) {
    w.StartObject();
    WriteKey(w, "batch_size");
    w.Uint64(b.batch_size);
    WriteDuration(w, "compute_input", b.compute_input);
    WriteDuration(w, "compute_infer", b.compute_infer);
    WriteDuration(w, "compute_output", b.compute_output);
    w.EndObject();
  }
  w.EndArray();
  if (s.memory_bytes >= 0) {
    // Triton's memory_usage: what the version holds in host memory.
    WriteKey(w, "memory_usage");
    w.StartArray();
    w.StartObject();
    WriteKey(w, "type");
    WriteString(w, "CPU");
    WriteKey(w, "id");
    w.Int64(0);
    WriteKey(w, "byte_size");
    w.Uint64(static_cast<uint64_t>(s.memory_bytes));
    w.EndObject();
    w.EndArray();
  }
  w.EndObject();
}

// Parses an optional JSON object body; an empty body yields no object.
absl::StatusOr<std::optional<object>> ParseOptionalObject(
    std::string_view body, simdjson::dom::parser& parser) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return std::optional<object>();
  }
  element root;
  if (auto error = parser.parse(body.data(), body.size()).get(root);
      error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed JSON in request: ", simdjson::error_message(error)));
  }
  if (root.type() != element_type::OBJECT) {
    return absl::InvalidArgumentError("the request must be a JSON object");
  }
  return std::optional<object>(root.get_object().value_unsafe());
}

}  // namespace

std::string ServerMetadataJson(const ServerMetadata& m) {
  std::string json;
  StringOutput b(&json);
  JsonWriter w(b);
  w.StartObject();
  WriteKey(w, "name");
  WriteString(w, m.name);
  WriteKey(w, "version");
  WriteString(w, m.version);
  WriteKey(w, "extensions");
  w.StartArray();
  for (const std::string& e : m.extensions) WriteString(w, e);
  w.EndArray();
  w.EndObject();
  return json;
}

std::string ModelMetadataJson(const ModelMetadata& m) {
  std::string json;
  StringOutput b(&json);
  JsonWriter w(b);
  w.StartObject();
  WriteKey(w, "name");
  WriteString(w, m.name);
  WriteKey(w, "versions");
  w.StartArray();
  for (const std::string& v : m.versions) WriteString(w, v);
  w.EndArray();
  WriteKey(w, "platform");
  WriteString(w, m.platform);
  WriteTensors(w, "inputs", m.inputs);
  WriteTensors(w, "outputs", m.outputs);
  w.EndObject();
  return json;
}

std::string ModelStatisticsJson(const std::vector<ModelStatistics>& stats) {
  std::string json;
  StringOutput b(&json);
  JsonWriter w(b);
  w.StartObject();
  WriteKey(w, "model_stats");
  w.StartArray();
  for (const ModelStatistics& s : stats) WriteOneModelStats(w, s);
  w.EndArray();
  w.EndObject();
  return json;
}

std::string RepositoryIndexJson(const std::vector<RepositoryEntry>& entries) {
  std::string json;
  StringOutput b(&json);
  JsonWriter w(b);
  w.StartArray();
  for (const RepositoryEntry& e : entries) {
    w.StartObject();
    WriteKey(w, "name");
    WriteString(w, e.name);
    if (!e.version.empty()) {
      WriteKey(w, "version");
      WriteString(w, e.version);
    }
    WriteKey(w, "state");
    WriteString(w, e.state);
    if (!e.reason.empty()) {
      WriteKey(w, "reason");
      WriteString(w, e.reason);
    }
    if (e.memory_bytes >= 0) {
      WriteKey(w, "memory_bytes");
      w.Int64(e.memory_bytes);
    }
    w.EndObject();
  }
  w.EndArray();
  return json;
}

absl::StatusOr<std::string> ModelConfigJson(const inference::ModelConfig& c) {
  // Triton's form: every field, 64-bit integers (dims) as numbers.
  return ModelConfigToJson(c);
}

std::string ErrorJson(std::string_view message, std::string_view id) {
  std::string json;
  StringOutput b(&json);
  JsonWriter w(b);
  w.StartObject();
  WriteKey(w, "error");
  WriteString(w, message);
  if (!id.empty()) {
    WriteKey(w, "id");
    WriteString(w, id);
  }
  w.EndObject();
  return json;
}

std::string LogSettingsJson(const LogSettings& settings) {
  std::string json;
  StringOutput b(&json);
  JsonWriter w(b);
  w.StartObject();
  // Triton's keys first, then serval's.
  WriteKey(w, "log_file");
  WriteString(w, "");
  WriteKey(w, "log_info");
  w.Bool(settings.info);
  WriteKey(w, "log_warning");
  w.Bool(settings.warning);
  WriteKey(w, "log_error");
  w.Bool(settings.error);
  WriteKey(w, "log_verbose_level");
  w.Uint(settings.verbose_level);
  WriteKey(w, "log_format");
  WriteString(w, settings.format);
  WriteKey(w, "log_level");
  WriteString(w, settings.level);
  WriteKey(w, "log_access");
  w.Bool(settings.access_log);
  w.EndObject();
  return json;
}

absl::StatusOr<LogSettingsUpdate> ParseLogSettingsUpdate(
    std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(auto obj, ParseOptionalObject(body, parser));
  LogSettingsUpdate update;
  if (!obj.has_value()) return update;
  auto get_bool = [](element value, std::string_view key,
                     std::optional<bool>* out) -> absl::Status {
    bool on;
    if (value.get(on) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", ToAbsl(key), "' must be a boolean"));
    }
    *out = on;
    return absl::OkStatus();
  };
  auto get_string = [](element value, std::string_view key,
                       std::optional<std::string>* out) -> absl::Status {
    std::string_view text;
    if (value.get(text) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", ToAbsl(key), "' must be a string"));
    }
    *out = std::string(text);
    return absl::OkStatus();
  };
  for (auto field : *obj) {
    const std::string_view key = field.key;
    if (key == "log_level") {
      RETURN_IF_ERROR(get_string(field.value, key, &update.level));
    } else if (key == "log_format") {
      RETURN_IF_ERROR(get_string(field.value, key, &update.format));
    } else if (key == "log_file") {
      RETURN_IF_ERROR(get_string(field.value, key, &update.file));
    } else if (key == "log_info") {
      RETURN_IF_ERROR(get_bool(field.value, key, &update.info));
    } else if (key == "log_warning") {
      RETURN_IF_ERROR(get_bool(field.value, key, &update.warning));
    } else if (key == "log_error") {
      RETURN_IF_ERROR(get_bool(field.value, key, &update.error));
    } else if (key == "log_access") {
      RETURN_IF_ERROR(get_bool(field.value, key, &update.access_log));
    } else if (key == "log_verbose_level") {
      uint64_t verbose;
      if (field.value.get(verbose) != simdjson::SUCCESS ||
          verbose > UINT32_MAX) {
        return absl::InvalidArgumentError(
            "'log_verbose_level' must be a non-negative integer");
      }
      update.verbose_level = static_cast<uint32_t>(verbose);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unsupported logging setting '", ToAbsl(key),
          "'; expected log_info, log_warning, log_error, log_verbose_level, "
          "log_format, log_file, log_level or log_access"));
    }
  }
  return update;
}

absl::StatusOr<bool> ParseIndexReadyOnly(std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(auto obj, ParseOptionalObject(body, parser));
  if (!obj.has_value()) return false;
  element ready;
  if ((*obj)["ready"].get(ready) != simdjson::SUCCESS) return false;
  if (ready.type() != element_type::BOOL) {
    return absl::InvalidArgumentError("'ready' must be a boolean");
  }
  return ready.get_bool().value_unsafe();
}

absl::StatusOr<LoadOptions> ParseLoadOptions(std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(auto obj, ParseOptionalObject(body, parser));
  LoadOptions options;
  if (!obj.has_value()) return options;
  element params;
  if ((*obj)["parameters"].get(params) != simdjson::SUCCESS) return options;
  if (params.type() != element_type::OBJECT) {
    return absl::InvalidArgumentError("'parameters' must be a JSON object");
  }
  const object fields = params.get_object().value_unsafe();
  for (auto field : fields) {
    const std::string_view key = field.key;
    std::string_view value;
    if (key == "config") {
      if (field.value.get(value) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(
            "parameter 'config' must be a string holding the model config "
            "as JSON");
      }
      options.config_json = std::string(value);
    } else if (key.substr(0, 5) == "file:") {
      const std::string_view path = key.substr(5);
      if (field.value.get(value) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(absl::StrCat(
            "parameter '", ToAbsl(key), "' must be a base64 string"));
      }
      std::string bytes;
      if (!absl::Base64Unescape(ToAbsl(value), &bytes)) {
        return absl::InvalidArgumentError(
            absl::StrCat("parameter '", ToAbsl(key), "' is not valid base64"));
      }
      options.files[std::string(path)] = std::move(bytes);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown load parameter '", ToAbsl(key),
                       "'; expected 'config' or 'file:<version>/<name>'"));
    }
  }
  if (!options.files.empty() && options.config_json.empty()) {
    return absl::InvalidArgumentError(
        "file: parameters need a 'config' parameter as well");
  }
  return options;
}

absl::StatusOr<bool> ParseUnloadDependents(std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(auto obj, ParseOptionalObject(body, parser));
  if (!obj.has_value()) return false;
  element params, flag;
  if ((*obj)["parameters"].get(params) != simdjson::SUCCESS) return false;
  if (params["unload_dependents"].get(flag) != simdjson::SUCCESS) return false;
  if (flag.type() != element_type::BOOL) {
    return absl::InvalidArgumentError(
        "parameter 'unload_dependents' must be a boolean");
  }
  return flag.get_bool().value_unsafe();
}

std::string SharedMemoryStatusJson(
    const std::vector<SharedMemoryRegionStatus>& regions) {
  std::string json;
  StringOutput b(&json);
  JsonWriter w(b);
  w.StartArray();
  for (const SharedMemoryRegionStatus& r : regions) {
    w.StartObject();
    WriteKey(w, "name");
    WriteString(w, r.name);
    WriteKey(w, "key");
    WriteString(w, r.key);
    WriteKey(w, "offset");
    w.Uint64(r.offset);
    WriteKey(w, "byte_size");
    w.Uint64(r.byte_size);
    w.EndObject();
  }
  w.EndArray();
  return json;
}

absl::StatusOr<SharedMemoryRegistration> ParseSharedMemoryRegister(
    std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(auto obj, ParseOptionalObject(body, parser));
  if (!obj.has_value()) {
    return absl::InvalidArgumentError(
        "Shared memory register request has no 'key' field");
  }
  SharedMemoryRegistration r;
  std::string_view key;
  if ((*obj)["key"].get(key) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        "Shared memory register request has no 'key' field");
  }
  r.key = std::string(key);
  if ((*obj)["byte_size"].get(r.byte_size) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        "Shared memory register request has no 'byte_size' field (a "
        "non-negative integer)");
  }
  simdjson::dom::element offset;
  if ((*obj)["offset"].get(offset) == simdjson::SUCCESS &&
      offset.get(r.offset) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        "Shared memory register request: 'offset' must be a non-negative "
        "integer");
  }
  return r;
}

std::string TraceSettingsJson(const TraceSettings& s) {
  std::string json;
  StringOutput b(&json);
  JsonWriter w(b);
  w.StartObject();
  WriteKey(w, "trace_level");
  w.StartArray();
  for (const std::string& l : s.level) WriteString(w, l);
  w.EndArray();
  WriteKey(w, "trace_rate");
  WriteString(w, absl::StrCat(s.rate));
  WriteKey(w, "trace_count");
  WriteString(w, absl::StrCat(s.count));
  WriteKey(w, "log_frequency");
  WriteString(w, absl::StrCat(s.log_frequency));
  WriteKey(w, "trace_file");
  WriteString(w, s.file);
  WriteKey(w, "trace_mode");
  WriteString(w, s.mode);
  w.EndObject();
  return json;
}

absl::StatusOr<std::vector<TraceSettingUpdate>> ParseTraceSettingsUpdate(
    std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(auto obj, ParseOptionalObject(body, parser));
  std::vector<TraceSettingUpdate> updates;
  if (!obj.has_value()) return updates;
  for (auto field : *obj) {
    TraceSettingUpdate u;
    u.key = std::string(std::string_view(field.key));
    if (field.value.is_null()) {
      u.clear = true;
    } else if (simdjson::dom::array values;
               field.value.get(values) == simdjson::SUCCESS) {
      // Triton: an empty list changes nothing.
      if (values.size() == 0) continue;
      for (simdjson::dom::element v : values) {
        std::string_view text;
        if (v.get(text) != simdjson::SUCCESS) {
          return absl::InvalidArgumentError(absl::StrCat(
              "Unable to parse '", u.key, "': values must be strings"));
        }
        u.values.emplace_back(text);
      }
    } else if (int64_t number; field.value.get(number) == simdjson::SUCCESS) {
      // Triton wants strings; a number means the same and is taken.
      u.values.push_back(absl::StrCat(number));
    } else {
      std::string_view text;
      if (field.value.get(text) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(
            absl::StrCat("Unable to parse '", u.key,
                         "': trace settings are strings (or null to clear)"));
      }
      u.values.emplace_back(text);
    }
    updates.push_back(std::move(u));
  }
  return updates;
}

}  // namespace serval::http
