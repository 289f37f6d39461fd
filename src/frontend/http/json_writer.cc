#include "frontend/http/json_writer.h"

#include <charconv>
#include <cmath>
#include <string>

namespace serval::http {
namespace {

template <typename T>
void WriteShortest(JsonWriter& w, T v) {
  // JSON has no NaN or infinity. As strings they stay valid JSON for every
  // parser, and the clients' conversions (numpy's array(..., dtype),
  // Python's float()) read "NaN", "Infinity" and "-Infinity" back.
  if (std::isnan(v)) {
    w.String("NaN", 3);
    return;
  }
  if (std::isinf(v)) {
    if (v > 0) {
      w.String("Infinity", 8);
    } else {
      w.String("-Infinity", 9);
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

// The length of the valid UTF-8 sequence at s[i] (1-4), or 0 when the
// bytes there are not one (overlong forms and surrogates included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

std::string_view ValidUtf8(std::string_view s, std::string* scratch) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) return s;
  // Not UTF-8: a JSON body must be, so each invalid byte becomes U+FFFD.
  // Clients that need the exact bytes ask for binary data.
  scratch->assign(s.substr(0, i));
  while (i < s.size()) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      *scratch += "\xEF\xBF\xBD";
      ++i;
    } else {
      scratch->append(s.data() + i, n);
      i += n;
    }
  }
  return *scratch;
}

void WriteString(JsonWriter& w, std::string_view s) {
  std::string scratch;
  const std::string_view v = ValidUtf8(s, &scratch);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void WriteKey(JsonWriter& w, std::string_view key) {
  std::string scratch;
  const std::string_view v = ValidUtf8(key, &scratch);
  w.Key(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

}  // namespace serval::http
