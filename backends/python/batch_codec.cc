#include "batch_codec.h"

#include <algorithm>
#include <cstring>

#include "serval/backend_util.h"
#include "stub_json.h"
#include "tensor_json.h"

namespace serval::python {
namespace {

using backend_util::ApiTypeName;
using backend_util::DimsToString;
using backend_util::ElementSize;
using backend_util::PluginError;
using backend_util::ThrowIfError;
using Writer = JsonWriter;

constexpr uint64_t kAlign = 64;

uint64_t AlignUp(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

int64_t RowElements(const int64_t* shape, uint32_t rank) {
  int64_t n = 1;
  for (uint32_t d = 1; d < rank; ++d) n *= shape[d];
  return n;
}

// Byte offsets, from the tensor's start, at which each request's rows of a
// BYTES tensor begin (and the end): elements are counted off the
// serialization (4-byte length, then the bytes).
std::vector<uint64_t> BytesRowStarts(const ServalTensor& t,
                                     const RequestRows& rows) {
  const int64_t per_row = RowElements(t.shape, t.rank);
  const auto* data = static_cast<const uint8_t*>(t.data);
  std::vector<uint64_t> starts{0};
  uint64_t at = 0;
  for (uint64_t r : rows) {
    for (int64_t e = 0; e < static_cast<int64_t>(r) * per_row; ++e) {
      if (at + 4 > t.byte_size) {
        throw PluginError(SERVAL_INVALID_ARGUMENT,
                          std::string("BYTES input '") + t.name +
                              "' is shorter than its shape");
      }
      uint32_t len = 0;
      std::memcpy(&len, data + at, 4);
      at += 4 + static_cast<uint64_t>(len);
    }
    starts.push_back(std::min<uint64_t>(at, t.byte_size));
  }
  return starts;
}

// pb_utils.TritonError codes to status codes.
int32_t CodeFromTriton(int code) {
  switch (code) {
    case 0:
      return SERVAL_UNKNOWN;
    case 2:
      return SERVAL_NOT_FOUND;
    case 3:
      return SERVAL_INVALID_ARGUMENT;
    case 4:
      return SERVAL_UNAVAILABLE;
    case 5:
      return SERVAL_UNIMPLEMENTED;
    case 6:
      return SERVAL_ALREADY_EXISTS;
    case 7:
      return SERVAL_CANCELLED;
    default:
      return SERVAL_INTERNAL;
  }
}

const OutputSpec* FindOutput(const PythonModel& model, std::string_view name) {
  for (const auto& o : model.outputs) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

// One request's part of one output, as the stub left it.
struct Piece {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  std::vector<int64_t> shape;
};

struct Failure {
  int32_t code = SERVAL_OK;
  std::string message;
  bool failed() const { return code != SERVAL_OK; }
};

}  // namespace

std::string EncodeExecute(const ServalHostApi& host, ServalBatch* batch,
                          const PythonModel& model, SharedRegion* inputs,
                          RequestRows* rows) {
  const uint32_t count = host.batch_request_count(batch);
  const ServalTensor* tensors = nullptr;
  uint32_t n = 0;
  ThrowIfError(host.batch_inputs(batch, &tensors, &n));
  const char* const* wanted = nullptr;
  uint32_t wanted_count = 0;
  ThrowIfError(host.batch_requested_outputs(batch, &wanted, &wanted_count));
  const bool batching = model.max_batch_size > 0;
  if (!batching && count != 1) {
    throw PluginError(SERVAL_INTERNAL,
                      "a model that does not batch got several requests");
  }
  rows->assign(count, 1);
  if (batching && SERVAL_HOST_HAS(&host, batch_request_items)) {
    for (uint32_t i = 0; i < count; ++i) {
      (*rows)[i] = host.batch_request_items(batch, i);
    }
  }

  // Each tensor of the batch once, aligned; requests are slices of it.
  std::vector<uint64_t> base(n);
  uint64_t total = 0;
  for (uint32_t t = 0; t < n; ++t) {
    base[t] = AlignUp(total);
    total = base[t] + tensors[t].byte_size;
  }
  inputs->Reserve(std::max<uint64_t>(total, 1));
  for (uint32_t t = 0; t < n; ++t) {
    if (tensors[t].byte_size > 0) {
      std::memcpy(inputs->data() + base[t], tensors[t].data,
                  tensors[t].byte_size);
    }
  }
  std::vector<std::vector<uint64_t>> starts(n);
  for (uint32_t t = 0; t < n; ++t) {
    if (!batching) {
      starts[t] = {0, tensors[t].byte_size};
    } else if (tensors[t].datatype == SERVAL_TYPE_BYTES) {
      starts[t] = BytesRowStarts(tensors[t], *rows);
    } else {
      const uint64_t row_bytes = static_cast<uint64_t>(RowElements(
                                     tensors[t].shape, tensors[t].rank)) *
                                 ElementSize(tensors[t].datatype);
      starts[t] = {0};
      for (uint64_t r : *rows)
        starts[t].push_back(starts[t].back() + r * row_bytes);
    }
  }

  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("op");
  w.String("execute");
  w.Key("input_size");
  w.Uint64(inputs->size());
  w.Key("requests");
  w.StartArray();
  const bool has_ids = SERVAL_HOST_HAS(&host, batch_request_id);
  for (uint32_t i = 0; i < count; ++i) {
    w.StartObject();
    w.Key("id");
    w.String(has_ids ? host.batch_request_id(batch, i) : "");
    w.Key("timeout_us");
    w.Uint64(has_ids ? host.batch_request_timeout_us(batch, i) : 0);
    if (SERVAL_HOST_HAS(&host, batch_request_parameters)) {
      // Already a JSON object: written as it is.
      const char* params = host.batch_request_parameters(batch, i);
      w.Key("parameters");
      w.RawValue(params, std::strlen(params), rapidjson::kObjectType);
    }
    w.Key("outputs");
    w.StartArray();
    for (uint32_t o = 0; o < wanted_count; ++o) w.String(wanted[o]);
    w.EndArray();
    w.Key("inputs");
    w.StartArray();
    for (uint32_t t = 0; t < n; ++t) {
      const ServalTensor& tensor = tensors[t];
      WriteTensorSpec(w, tensor.name, tensor.datatype, tensor.shape,
                      tensor.rank,
                      batching ? static_cast<int64_t>((*rows)[i]) : -1,
                      base[t] + starts[t][i], starts[t][i + 1] - starts[t][i]);
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

void ApplyResult(const ServalHostApi& host, ServalBatch* batch,
                 const PythonModel& model, const std::string& reply,
                 SharedRegion* outputs, const RequestRows& rows) {
  rapidjson::Document d;
  d.Parse(reply.data(), reply.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("responses") ||
      !d["responses"].IsArray()) {
    throw PluginError(SERVAL_INTERNAL, "the stub sent an unreadable result");
  }
  if (d.HasMember("output_size") && d["output_size"].IsUint64()) {
    outputs->Remap(d["output_size"].GetUint64());
  }
  const auto& responses = d["responses"];
  const uint32_t count = static_cast<uint32_t>(rows.size());
  if (responses.Size() != count) {
    throw PluginError(SERVAL_INTERNAL, "the stub answered " +
                                           std::to_string(responses.Size()) +
                                           " responses for " +
                                           std::to_string(count) + " requests");
  }
  const char* const* wanted = nullptr;
  uint32_t wanted_count = 0;
  ThrowIfError(host.batch_requested_outputs(batch, &wanted, &wanted_count));
  const bool batching = model.max_batch_size > 0;

  std::vector<Failure> failures(count);
  // pieces[o][i]: request i's part of requested output o.
  std::vector<std::vector<Piece>> pieces(wanted_count,
                                         std::vector<Piece>(count));
  for (uint32_t i = 0; i < count; ++i) {
    const auto& r = responses[i];
    Failure& f = failures[i];
    if (r.HasMember("error") && r["error"].IsString()) {
      f.code = CodeFromTriton(
          r.HasMember("code") && r["code"].IsInt() ? r["code"].GetInt() : 1);
      f.message = r["error"].GetString();
      continue;
    }
    for (uint32_t o = 0; o < wanted_count && !f.failed(); ++o) {
      const OutputSpec* spec = FindOutput(model, wanted[o]);
      const rapidjson::Value* found = nullptr;
      if (r.HasMember("outputs") && r["outputs"].IsArray()) {
        for (const auto& out : r["outputs"].GetArray()) {
          if (out.HasMember("name") && out["name"].IsString() &&
              std::string_view(out["name"].GetString()) == wanted[o]) {
            found = &out;
          }
        }
      }
      if (found == nullptr) {
        f = {SERVAL_INTERNAL,
             std::string("the model returned no output '") + wanted[o] + "'"};
        break;
      }
      const auto& out = *found;
      const int32_t type = TypeFromName(out["datatype"].GetString());
      if (spec != nullptr && type != spec->datatype) {
        f = {SERVAL_INTERNAL, std::string("output '") + wanted[o] + "' is " +
                                  ApiTypeName(type) + ", its config says " +
                                  ApiTypeName(spec->datatype)};
        break;
      }
      Piece& p = pieces[o][i];
      for (const auto& dim : out["shape"].GetArray()) {
        p.shape.push_back(dim.GetInt64());
      }
      const uint64_t offset = out["offset"].GetUint64();
      p.size = out["size"].GetUint64();
      if (offset + p.size > outputs->size() || offset + p.size < offset) {
        throw PluginError(SERVAL_INTERNAL,
                          "the stub placed an output outside its region");
      }
      p.data = outputs->data() + offset;
      int64_t elements = 1;
      for (int64_t dim : p.shape) elements *= dim;
      if (type != SERVAL_TYPE_BYTES &&
          p.size != static_cast<uint64_t>(elements) * ElementSize(type)) {
        throw PluginError(SERVAL_INTERNAL,
                          "the stub's output size disagrees with its shape");
      }
      if (batching &&
          (p.shape.empty() || p.shape[0] != static_cast<int64_t>(rows[i]))) {
        f = {SERVAL_INVALID_ARGUMENT,
             std::string("output '") + wanted[o] + "' has shape " +
                 DimsToString(p.shape) +
                 ": its first dimension must be the request's batch size " +
                 std::to_string(rows[i])};
      }
    }
  }

  // Requests batched together share one buffer per output: their rows
  // must agree.
  std::vector<std::vector<int64_t>> row_shape(wanted_count);
  for (uint32_t o = 0; o < wanted_count; ++o) {
    for (uint32_t i = 0; i < count; ++i) {
      if (failures[i].failed()) continue;
      const auto& s = pieces[o][i].shape;
      std::vector<int64_t> row(s.begin() + (batching ? 1 : 0), s.end());
      if (row_shape[o].empty() && !row.empty()) {
        row_shape[o] = row;
      } else if (batching && row != row_shape[o]) {
        failures[i] = {SERVAL_INVALID_ARGUMENT,
                       std::string("output '") + wanted[o] + "' has shape " +
                           DimsToString(s) +
                           ", unlike the requests batched with it"};
      }
    }
  }
  const bool all_failed =
      std::all_of(failures.begin(), failures.end(),
                  [](const Failure& f) { return f.failed(); });
  if (all_failed && count == 1) {
    throw PluginError(static_cast<ServalCode>(failures[0].code),
                      failures[0].message);
  }
  const bool per_request = SERVAL_HOST_HAS(&host, batch_request_fail);
  if (!per_request) {
    for (const Failure& f : failures) {
      if (f.failed())
        throw PluginError(static_cast<ServalCode>(f.code), f.message);
    }
  }

  uint64_t total_rows = 0;
  for (uint64_t r : rows) total_rows += r;
  for (uint32_t o = 0; o < wanted_count; ++o) {
    const OutputSpec* spec = FindOutput(model, wanted[o]);
    const int32_t type = spec != nullptr ? spec->datatype : SERVAL_TYPE_INVALID;
    std::vector<int64_t> row = row_shape[o];
    if (row.empty() && spec != nullptr && (batching || all_failed)) {
      // No successful request to copy the shape from: the config's, with
      // variable dimensions as 1 (only failed rows are written).
      for (int64_t dim : spec->dims) row.push_back(dim < 0 ? 1 : dim);
    }
    int64_t row_elements = 1;
    for (int64_t dim : row) row_elements *= dim;
    std::vector<int64_t> shape;
    uint64_t bytes = 0;
    if (batching) {
      shape.push_back(static_cast<int64_t>(total_rows));
      shape.insert(shape.end(), row.begin(), row.end());
      for (uint32_t i = 0; i < count; ++i) {
        bytes += failures[i].failed()
                     ? rows[i] * static_cast<uint64_t>(row_elements) *
                           (type == SERVAL_TYPE_BYTES ? 4 : ElementSize(type))
                     : pieces[o][i].size;
      }
    } else {
      shape = pieces[o][0].shape;
      bytes = pieces[o][0].size;
    }
    void* buffer = nullptr;
    ThrowIfError(host.batch_output_buffer(batch, wanted[o], type, shape.data(),
                                          static_cast<uint32_t>(shape.size()),
                                          bytes, &buffer));
    auto* dst = static_cast<uint8_t*>(buffer);
    for (uint32_t i = 0; i < count; ++i) {
      if (failures[i].failed()) {
        // Rows of a failed request are written (zeros; empty strings for
        // BYTES) but never returned.
        const uint64_t n = rows[i] * static_cast<uint64_t>(row_elements) *
                           (type == SERVAL_TYPE_BYTES ? 4 : ElementSize(type));
        if (batching) {
          std::memset(dst, 0, n);
          dst += n;
        }
        continue;
      }
      if (pieces[o][i].size > 0) {
        std::memcpy(dst, pieces[o][i].data, pieces[o][i].size);
      }
      dst += pieces[o][i].size;
    }
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (failures[i].failed()) {
      host.batch_request_fail(
          batch, i,
          host.error_new(failures[i].code, failures[i].message.c_str()));
    }
  }
}

}  // namespace serval::python
