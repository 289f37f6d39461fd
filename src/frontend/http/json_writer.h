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

// NaN and infinities have no JSON form; they are written as NaN, Infinity
// and -Infinity, which JavaScript-style parsers (Python's json) accept.
void WriteFloat(JsonWriter& w, float v);
void WriteDouble(JsonWriter& w, double v);

inline void WriteKey(JsonWriter& w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}
inline void WriteString(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_JSON_WRITER_H_
