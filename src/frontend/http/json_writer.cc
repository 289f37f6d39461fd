#include "frontend/http/json_writer.h"

#include <charconv>
#include <cmath>

namespace serval::http {
namespace {

template <typename T>
void WriteShortest(JsonWriter& w, T v) {
  if (std::isnan(v)) {
    w.RawValue("NaN", 3, rapidjson::kNumberType);
    return;
  }
  if (std::isinf(v)) {
    if (v > 0) {
      w.RawValue("Infinity", 8, rapidjson::kNumberType);
    } else {
      w.RawValue("-Infinity", 9, rapidjson::kNumberType);
    }
    return;
  }
  char buf[32];
  // std::to_chars without a format is the shortest form that parses back
  // to the same value of type T.
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  w.RawValue(buf, static_cast<size_t>(end - buf), rapidjson::kNumberType);
}

}  // namespace

void WriteFloat(JsonWriter& w, float v) { WriteShortest(w, v); }
void WriteDouble(JsonWriter& w, double v) { WriteShortest(w, v); }

}  // namespace serval::http
