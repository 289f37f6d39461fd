// Debian bookworm's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0,
// so absl::string_view is a distinct type and absl::StrCat/StrJoin/Status
// do not accept std::string_view. serval's own APIs use std::string_view;
// these adapters bridge the two at absl call sites.
#ifndef SERVAL_COMMON_ABSL_COMPAT_H_
#define SERVAL_COMMON_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace serval {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view ToStd(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace serval

#endif  // SERVAL_COMMON_ABSL_COMPAT_H_
