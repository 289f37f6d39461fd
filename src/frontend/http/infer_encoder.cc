#include "frontend/http/infer_encoder.h"

#include <cstring>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "frontend/http/json_writer.h"
#include "tensor/shape.h"

namespace serval::http {
namespace {

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T, typename WriteFn>
void WriteEach(const OutputTensor& t, int64_t count, WriteFn write) {
  const char* p = t.data.data();
  for (int64_t i = 0; i < count; ++i) write(Load<T>(p + i * sizeof(T)));
}

void WriteBytesData(JsonWriter& w, const OutputTensor& t) {
  const std::string_view s(t.data.data(), t.data.size());
  size_t pos = 0;
  while (pos + 4 <= s.size()) {
    const uint32_t len = Load<uint32_t>(s.data() + pos);
    pos += 4;
    WriteString(w, s.substr(pos, len));
    pos += len;
  }
}

void WriteData(JsonWriter& w, const OutputTensor& t, int64_t count) {
  w.StartArray();
  switch (t.datatype) {
    case DataType::kBool:
      WriteEach<uint8_t>(t, count, [&](uint8_t v) { w.Bool(v != 0); });
      break;
    case DataType::kUint8:
      WriteEach<uint8_t>(t, count, [&](uint8_t v) { w.Uint(v); });
      break;
    case DataType::kUint16:
      WriteEach<uint16_t>(t, count, [&](uint16_t v) { w.Uint(v); });
      break;
    case DataType::kUint32:
      WriteEach<uint32_t>(t, count, [&](uint32_t v) { w.Uint(v); });
      break;
    case DataType::kUint64:
      WriteEach<uint64_t>(t, count, [&](uint64_t v) { w.Uint64(v); });
      break;
    case DataType::kInt8:
      WriteEach<int8_t>(t, count, [&](int8_t v) { w.Int(v); });
      break;
    case DataType::kInt16:
      WriteEach<int16_t>(t, count, [&](int16_t v) { w.Int(v); });
      break;
    case DataType::kInt32:
      WriteEach<int32_t>(t, count, [&](int32_t v) { w.Int(v); });
      break;
    case DataType::kInt64:
      WriteEach<int64_t>(t, count, [&](int64_t v) { w.Int64(v); });
      break;
    case DataType::kFp32:
      WriteEach<float>(t, count, [&](float v) { WriteFloat(w, v); });
      break;
    case DataType::kFp64:
      WriteEach<double>(t, count, [&](double v) { WriteDouble(w, v); });
      break;
    case DataType::kBytes:
      WriteBytesData(w, t);
      break;
    default:
      break;  // refused by CheckOutput
  }
  w.EndArray();
}

// Checks that the output's bytes match its shape; returns its element count.
absl::StatusOr<int64_t> CheckOutput(const InferenceResponse& r,
                                    const OutputTensor& t, bool binary) {
  // Formatted only on failure.
  const auto what = [&] {
    return absl::StrCat("output '", t.name, "' of model '", r.model_name, "'");
  };
  auto count = ElementCount(t.shape);
  if (!count.ok()) {
    return absl::InternalError(
        absl::StrCat(what(), ": ", count.status().message()));
  }
  if (t.datatype == DataType::kBytes) {
    auto got =
        CountBytesElements(std::string_view(t.data.data(), t.data.size()));
    if (!got.ok() || *got != *count) {
      return absl::InternalError(absl::StrCat(
          what(), ": shape ", ShapeToString(t.shape), " does not match its ",
          got.ok() ? absl::StrCat(*got) : "malformed", " BYTES elements"));
    }
  } else {
    auto bytes = ByteSize(t.datatype, t.shape);
    if (!bytes.ok() || static_cast<size_t>(*bytes) != t.data.size()) {
      return absl::InternalError(
          absl::StrCat(what(), ": shape ", ShapeToString(t.shape), " of ",
                       ToAbsl(ApiName(t.datatype)), " does not match its ",
                       t.data.size(), " bytes"));
    }
  }
  if (!binary &&
      (t.datatype == DataType::kFp16 || t.datatype == DataType::kBf16)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what(), " is ", ToAbsl(ApiName(t.datatype)),
                     ", which JSON cannot carry; request it as binary "
                     "(parameters.binary_data: true)"));
  }
  return *count;
}

}  // namespace

absl::StatusOr<EncodedInfer> EncodeInferResponse(
    InferenceResponse response, const OutputEncoding& encoding) {
  EncodedInfer out;
  StringOutput buffer(&out.json);
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "model_name");
  WriteString(w, response.model_name);
  WriteKey(w, "model_version");
  WriteString(w, absl::StrCat(response.model_version));
  if (!response.id.empty()) {
    WriteKey(w, "id");
    WriteString(w, response.id);
  }
  WriteKey(w, "outputs");
  w.StartArray();
  bool any_binary = false;
  for (OutputTensor& t : response.outputs) {
    if (t.in_shared_memory) {
      // Written into the client's region: only what it is, as Triton does.
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
      continue;
    }
    const bool binary = encoding.IsBinary(t.name);
    ASSIGN_OR_RETURN(auto count, CheckOutput(response, t, binary));
    w.StartObject();
    WriteKey(w, "name");
    WriteString(w, t.name);
    WriteKey(w, "datatype");
    WriteString(w, ApiName(t.datatype));
    WriteKey(w, "shape");
    w.StartArray();
    for (int64_t d : t.shape) w.Int64(d);
    w.EndArray();
    if (binary) {
      WriteKey(w, "parameters");
      w.StartObject();
      WriteKey(w, "binary_data_size");
      w.Uint64(t.data.size());
      w.EndObject();
      out.binary.push_back(std::move(t.data));
      any_binary = true;
    } else {
      WriteKey(w, "data");
      WriteData(w, t, count);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  if (any_binary) out.json_length = out.json.size();
  return out;
}

}  // namespace serval::http
