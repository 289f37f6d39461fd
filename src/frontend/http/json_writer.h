// RapidJSON writer setup shared by the REST encoders, writing straight into
// the std::string that becomes the reply body (no copy at the end), plus
// number output that round-trips exactly: shortest decimal form of a
// double, and of a float for FP32 (so 0.1f prints as 0.1, not
// 0.10000000149011612).
#ifndef SERVAL_FRONTEND_HTTP_JSON_WRITER_H_
#define SERVAL_FRONTEND_HTTP_JSON_WRITER_H_

#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace serval::http {

// A RapidJSON output stream appending to a string the caller owns.
class StringOutput {
 public:
  using Ch = char;
  explicit StringOutput(std::string* out) : out_(out) {}
  void Put(char c) { out_->push_back(c); }
  void Flush() {}

 private:
  std::string* out_;
};

using JsonWriter = rapidjson::Writer<StringOutput>;

// NaN and infinities have no JSON form; they are written as the strings
// "NaN", "Infinity" and "-Infinity".
void WriteFloat(JsonWriter& w, float v);
void WriteDouble(JsonWriter& w, double v);

void WriteKey(JsonWriter& w, std::string_view key);
// Writes `s` as a JSON string; bytes that are not UTF-8 (a BYTES tensor, a
// model name a client sent) become U+FFFD, so the body stays valid JSON.
void WriteString(JsonWriter& w, std::string_view s);

// `s` itself when it is valid UTF-8, else a copy in `scratch` with each
// invalid byte replaced by U+FFFD.
std::string_view ValidUtf8(std::string_view s, std::string* scratch);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_JSON_WRITER_H_
