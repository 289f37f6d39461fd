#include "repository/model_name.h"

#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace serval {
namespace {

// Decodes one UTF-8 code point starting at s[*pos] and advances *pos.
// Returns -1 for a malformed, overlong or surrogate sequence.
int32_t NextCodePoint(std::string_view s, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = byte(*pos);
  int extra;
  int32_t cp;
  if (lead < 0x80) {
    ++*pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    extra = 1;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
    cp = lead & 0x07;
  } else {
    return -1;
  }
  if (*pos + extra >= s.size()) return -1;  // truncated sequence
  for (int i = 1; i <= extra; ++i) {
    const uint8_t b = byte(*pos + i);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr int32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[extra] || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return -1;
  }
  *pos += extra + 1;
  return cp;
}

bool IsControl(int32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

absl::Status Refuse(std::string_view name, std::string_view why) {
  // The name itself may hold control characters: show it escaped.
  return absl::InvalidArgumentError(absl::StrCat("invalid model name '",
                                                 absl::CHexEscape(ToAbsl(name)),
                                                 "': ", ToAbsl(why)));
}

}  // namespace

absl::Status ValidateModelName(std::string_view name) {
  if (name.empty()) return Refuse(name, "the name is empty");
  if (name.front() == '.') return Refuse(name, "a name may not start with '.'");
  if (name.find("..") != std::string_view::npos) {
    return Refuse(name, "a name may not contain '..'");
  }
  if (name.find_first_of("/\\") != std::string_view::npos) {
    return Refuse(name, "a name may not contain '/' or '\\'");
  }
  size_t pos = 0;
  while (pos < name.size()) {
    const int32_t cp = NextCodePoint(name, &pos);
    if (cp < 0) return Refuse(name, "the name is not valid UTF-8");
    if (IsControl(cp)) {
      return Refuse(name, "a name may not contain non-printable characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace serval
