#include "tools/perf/model_inputs.h"

#include <simdjson.h>

#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace serval::perf {
namespace {

using simdjson::dom::element;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

absl::Status JsonError(std::string_view what, simdjson::error_code e) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(what), ": ", simdjson::error_message(e)));
}

template <typename T>
void Append(std::string* raw, T v) {
  raw->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// IEEE half from float, round-to-nearest-even, for FP16 inputs.
uint16_t ToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (exp <= 0) return static_cast<uint16_t>(sign);  // tiny values flush to 0
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  uint32_t h = sign | (exp << 10) | (mant >> 13);
  if ((mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) == 0x1000 && (h & 1))) ++h;
  return static_cast<uint16_t>(h);
}

float FromHalf(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  uint32_t x;
  if (exp == 0) {
    x = sign;  // zero and subnormals (never produced above)
  } else if (exp == 31) {
    x = sign | 0x7f800000 | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

// Appends one element of `datatype` holding `v` (numbers) to `raw`.
absl::Status AppendNumber(std::string_view dt, double v, std::string* raw) {
  if (dt == "FP32")
    Append(raw, static_cast<float>(v));
  else if (dt == "FP64")
    Append(raw, v);
  else if (dt == "FP16")
    Append(raw, ToHalf(static_cast<float>(v)));
  else if (dt == "BF16") {
    const float f = static_cast<float>(v);
    uint32_t x;
    std::memcpy(&x, &f, 4);
    Append(raw, static_cast<uint16_t>(x >> 16));
  } else if (dt == "INT8")
    Append(raw, static_cast<int8_t>(v));
  else if (dt == "INT16")
    Append(raw, static_cast<int16_t>(v));
  else if (dt == "INT32")
    Append(raw, static_cast<int32_t>(v));
  else if (dt == "INT64")
    Append(raw, static_cast<int64_t>(v));
  else if (dt == "UINT8")
    Append(raw, static_cast<uint8_t>(v));
  else if (dt == "UINT16")
    Append(raw, static_cast<uint16_t>(v));
  else if (dt == "UINT32")
    Append(raw, static_cast<uint32_t>(v));
  else if (dt == "UINT64")
    Append(raw, static_cast<uint64_t>(v));
  else if (dt == "BOOL")
    Append(raw, static_cast<uint8_t>(v != 0));
  else
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported datatype '", std::string(dt), "'"));
  return absl::OkStatus();
}

void AppendBytesElement(std::string_view s, std::string* raw) {
  Append(raw, static_cast<uint32_t>(s.size()));
  raw->append(s.data(), s.size());
}

bool IsFloat(std::string_view dt) {
  return dt == "FP32" || dt == "FP64" || dt == "FP16" || dt == "BF16";
}

// Writes element i of `t` as a JSON value.
void WriteElement(const InputTensor& t, size_t offset, Writer& w) {
  const std::string& dt = t.datatype;
  const char* p = t.raw.data() + offset;
  if (dt == "FP32")
    w.Double(Load<float>(p));
  else if (dt == "FP64")
    w.Double(Load<double>(p));
  else if (dt == "FP16")
    w.Double(FromHalf(Load<uint16_t>(p)));
  else if (dt == "BF16") {
    uint32_t x = static_cast<uint32_t>(Load<uint16_t>(p)) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    w.Double(f);
  } else if (dt == "INT8")
    w.Int(Load<int8_t>(p));
  else if (dt == "INT16")
    w.Int(Load<int16_t>(p));
  else if (dt == "INT32")
    w.Int(Load<int32_t>(p));
  else if (dt == "INT64")
    w.Int64(Load<int64_t>(p));
  else if (dt == "UINT8")
    w.Uint(Load<uint8_t>(p));
  else if (dt == "UINT16")
    w.Uint(Load<uint16_t>(p));
  else if (dt == "UINT32")
    w.Uint(Load<uint32_t>(p));
  else if (dt == "UINT64")
    w.Uint64(Load<uint64_t>(p));
  else if (dt == "BOOL")
    w.Bool(Load<uint8_t>(p) != 0);
}

void WriteData(const InputTensor& t, Writer& w) {
  w.StartArray();
  if (t.datatype == "BYTES") {
    size_t at = 0;
    while (at + 4 <= t.raw.size()) {
      const uint32_t n = Load<uint32_t>(t.raw.data() + at);
      w.String(t.raw.data() + at + 4, n);
      at += 4 + n;
    }
  } else {
    const int size = ElementSize(t.datatype);
    for (size_t at = 0; size > 0 && at + size <= t.raw.size(); at += size) {
      WriteElement(t, at, w);
    }
  }
  w.EndArray();
}

void WriteHeaderFields(const InputTensor& t, Writer& w) {
  w.Key("name");
  w.String(t.name.c_str(), t.name.size());
  w.Key("shape");
  w.StartArray();
  for (int64_t d : t.shape) w.Int64(d);
  w.EndArray();
  w.Key("datatype");
  w.String(t.datatype.c_str(), t.datatype.size());
}

// Flattens nested `data` arrays of the JSON input file into `t->raw`.
absl::Status FlattenData(element e, InputTensor* t) {
  if (e.is_array()) {
    simdjson::dom::array items = e.get_array().value_unsafe();
    for (element child : items) {
      absl::Status s = FlattenData(child, t);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (t->datatype == "BYTES") {
    if (!e.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", t->name, "': BYTES data must be strings"));
    }
    std::string_view s = e.get_string().value_unsafe();
    AppendBytesElement(s, &t->raw);
    return absl::OkStatus();
  }
  double v;
  if (e.is_bool()) {
    v = e.get_bool().value_unsafe() ? 1 : 0;
  } else if (e.is_int64()) {
    v = static_cast<double>(e.get_int64().value_unsafe());
  } else if (e.is_uint64()) {
    v = static_cast<double>(e.get_uint64().value_unsafe());
  } else if (e.is_double()) {
    v = e.get_double().value_unsafe();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", t->name, "': data must be numbers"));
  }
  if (t->datatype == "INT64" && e.is_int64()) {
    Append(&t->raw, e.get_int64().value_unsafe());  // exact beyond 2^53
    return absl::OkStatus();
  }
  return AppendNumber(t->datatype, v, &t->raw);
}

}  // namespace

int ElementSize(std::string_view dt) {
  if (dt == "BOOL" || dt == "INT8" || dt == "UINT8") return 1;
  if (dt == "INT16" || dt == "UINT16" || dt == "FP16" || dt == "BF16") return 2;
  if (dt == "INT32" || dt == "UINT32" || dt == "FP32") return 4;
  if (dt == "INT64" || dt == "UINT64" || dt == "FP64") return 8;
  return 0;
}

absl::StatusOr<ModelInfo> ParseModelInfoJson(std::string_view metadata,
                                             std::string_view config) {
  simdjson::dom::parser parser;
  ModelInfo info;
  simdjson::padded_string meta_text(metadata.data(), metadata.size());
  element meta;
  if (auto e = parser.parse(meta_text).get(meta); e) {
    return JsonError("model metadata", e);
  }
  simdjson::dom::array inputs;
  if (auto e = meta["inputs"].get_array().get(inputs); e) {
    return JsonError("model metadata has no 'inputs' array", e);
  }
  for (element in : inputs) {
    TensorSpec spec;
    std::string_view name, datatype;
    simdjson::dom::array shape;
    if (in["name"].get(name) || in["datatype"].get(datatype) ||
        in["shape"].get_array().get(shape)) {
      return absl::InvalidArgumentError(
          "model metadata: an input lacks name, datatype or shape");
    }
    spec.name = std::string(name);
    spec.datatype = std::string(datatype);
    for (element d : shape) {
      int64_t v;
      if (d.get(v)) {
        return absl::InvalidArgumentError("model metadata: non-integer dim");
      }
      spec.shape.push_back(v);
    }
    info.inputs.push_back(std::move(spec));
  }
  if (!config.empty()) {
    simdjson::padded_string config_text(config.data(), config.size());
    element cfg;
    if (auto e = parser.parse(config_text).get(cfg); e) {
      return JsonError("model config", e);
    }
    // Triton nests the config under "config" in some versions.
    element mbs;
    if (!cfg["max_batch_size"].get(mbs) ||
        !cfg["config"]["max_batch_size"].get(mbs)) {
      int64_t v = 0;
      if (!mbs.get(v)) info.max_batch_size = v;
    }
  }
  return info;
}

absl::StatusOr<std::vector<InputTensor>> MakeInputs(
    const ModelInfo& model, const InputOptions& options) {
  std::mt19937_64 rng(options.seed);
  std::vector<InputTensor> out;
  for (const TensorSpec& spec : model.inputs) {
    InputTensor t;
    t.name = spec.name;
    t.datatype = spec.datatype;
    std::vector<int64_t> dims = spec.shape;
    if (model.max_batch_size > 0 && !dims.empty()) dims.erase(dims.begin());
    auto given = options.shapes.find(spec.name);
    if (given != options.shapes.end()) {
      if (given->second.size() != dims.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--shape for '", spec.name, "' has ", given->second.size(),
            " dims; the model expects ", dims.size(),
            model.max_batch_size > 0 ? " (without the batch dim)" : ""));
      }
      dims = given->second;
    }
    for (int64_t d : dims) {
      if (d < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", spec.name,
                         "' has a variable dim: give its shape with --shape ",
                         spec.name, ":d1,d2,..."));
      }
    }
    if (model.max_batch_size > 0) {
      dims.insert(dims.begin(), options.batch_size);
    } else if (options.batch_size != 1) {
      return absl::InvalidArgumentError(
          "the model does not batch (max_batch_size 0): use --batch-size 1");
    }
    t.shape = dims;
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    if (spec.datatype == "BYTES") {
      std::uniform_int_distribution<int> letter('a', 'z');
      for (int64_t i = 0; i < count; ++i) {
        std::string s(
            options.kind == InputKind::kZeros ? 0 : options.bytes_length, 'a');
        for (char& c : s) c = static_cast<char>(letter(rng));
        AppendBytesElement(s, &t.raw);
      }
    } else {
      if (ElementSize(spec.datatype) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input '", spec.name, "': unsupported datatype ", spec.datatype));
      }
      // Floats are multiples of 1/1024 so their JSON text is short and exact.
      std::uniform_int_distribution<int> frac(0, 1023);
      std::uniform_int_distribution<int64_t> ints(
          options.int_min, std::max(options.int_min, options.int_max - 1));
      t.raw.reserve(count * ElementSize(spec.datatype));
      for (int64_t i = 0; i < count; ++i) {
        double v = 0;
        if (options.kind == InputKind::kRandom) {
          if (IsFloat(spec.datatype))
            v = frac(rng) / 1024.0;
          else if (spec.datatype == "BOOL")
            v = rng() & 1;
          else
            v = static_cast<double>(ints(rng));
        }
        RETURN_IF_ERROR(AppendNumber(spec.datatype, v, &t.raw));
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::vector<InputTensor>> ParseInputsJson(
    std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text.data(), text.size());
  element doc;
  if (auto e = parser.parse(padded).get(doc); e)
    return JsonError("input file", e);
  simdjson::dom::array inputs;
  if (auto e = doc["inputs"].get_array().get(inputs); e) {
    return JsonError("input file needs an 'inputs' array", e);
  }
  std::vector<InputTensor> out;
  for (element in : inputs) {
    InputTensor t;
    std::string_view name, datatype;
    simdjson::dom::array shape;
    element data;
    if (in["name"].get(name) || in["datatype"].get(datatype) ||
        in["shape"].get_array().get(shape) || in["data"].get(data)) {
      return absl::InvalidArgumentError(
          "input file: each input needs name, datatype, shape and data");
    }
    t.name = std::string(name);
    t.datatype = std::string(datatype);
    int64_t count = 1;
    for (element d : shape) {
      int64_t v;
      if (d.get(v) || v < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("input file: bad shape for '", t.name, "'"));
      }
      t.shape.push_back(v);
      count *= v;
    }
    RETURN_IF_ERROR(FlattenData(data, &t));
    const int size = ElementSize(t.datatype);
    if (size > 0 && static_cast<int64_t>(t.raw.size()) != count * size) {
      return absl::InvalidArgumentError(
          absl::StrCat("input file: '", t.name, "' has ", t.raw.size() / size,
                       " elements; its shape needs ", count));
    }
    out.push_back(std::move(t));
  }
  if (out.empty()) return absl::InvalidArgumentError("input file: no inputs");
  return out;
}

std::string JsonInferBody(const std::vector<InputTensor>& inputs) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("inputs");
  w.StartArray();
  for (const InputTensor& t : inputs) {
    w.StartObject();
    WriteHeaderFields(t, w);
    w.Key("data");
    WriteData(t, w);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

std::string BinaryInferBody(const std::vector<InputTensor>& inputs,
                            size_t* header_length) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("inputs");
  w.StartArray();
  for (const InputTensor& t : inputs) {
    w.StartObject();
    WriteHeaderFields(t, w);
    w.Key("parameters");
    w.StartObject();
    w.Key("binary_data_size");
    w.Uint64(t.raw.size());
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.Key("parameters");
  w.StartObject();
  w.Key("binary_data_output");
  w.Bool(true);
  w.EndObject();
  w.EndObject();
  std::string body(b.GetString(), b.GetSize());
  *header_length = body.size();
  for (const InputTensor& t : inputs) body += t.raw;
  return body;
}

}  // namespace serval::perf
