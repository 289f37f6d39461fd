// How the plugin and the stub describe a tensor in their JSON frames:
// {"name", "datatype" (KServe's name), "shape", "offset", "size"}, the
// bytes at offset..offset+size of a shared region or a frame's payload.
#ifndef SERVAL_BACKENDS_PYTHON_TENSOR_JSON_H_
#define SERVAL_BACKENDS_PYTHON_TENSOR_JSON_H_

#include <cstdint>
#include <string_view>

#include "serval/backend_util.h"
#include "stub_json.h"

namespace serval::python {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// `first` replaces the first dimension when >= 0 (a request's rows of a
// batch tensor).
inline void WriteTensorSpec(JsonWriter& w, const char* name, int32_t datatype,
                            const int64_t* shape, uint32_t rank, int64_t first,
                            uint64_t offset, uint64_t size) {
  w.StartObject();
  w.Key("name");
  w.String(name);
  w.Key("datatype");
  w.String(backend_util::ApiTypeName(datatype));
  w.Key("shape");
  w.StartArray();
  for (uint32_t d = 0; d < rank; ++d) {
    w.Int64(d == 0 && first >= 0 ? first : shape[d]);
  }
  w.EndArray();
  w.Key("offset");
  w.Uint64(offset);
  w.Key("size");
  w.Uint64(size);
  w.EndObject();
}

// The ServalDataType of a KServe datatype name; INVALID when unknown.
inline int32_t TypeFromName(std::string_view name) {
  for (int32_t t = SERVAL_TYPE_BOOL; t <= SERVAL_TYPE_BYTES; ++t) {
    if (name == backend_util::ApiTypeName(t)) return t;
  }
  return SERVAL_TYPE_INVALID;
}

}  // namespace serval::python

#endif  // SERVAL_BACKENDS_PYTHON_TENSOR_JSON_H_
