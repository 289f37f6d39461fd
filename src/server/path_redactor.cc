#include "server/path_redactor.h"

#include <algorithm>
#include <filesystem>

#include "common/absl_compat.h"

namespace serval {

PathRedactor::PathRedactor(
    std::vector<std::pair<std::string, std::string>> directories) {
  for (auto& [dir, placeholder] : directories) {
    // The spelling a message may use: as given, and resolved.
    std::error_code ec;
    std::string canonical = std::filesystem::weakly_canonical(dir, ec).string();
    for (std::string form : {dir, canonical}) {
      while (form.size() > 1 && form.back() == '/') form.pop_back();
      if (form.empty() || form == "/" || form == ".") continue;
      directories_.emplace_back(form, placeholder);
    }
  }
  std::sort(directories_.begin(), directories_.end(),
            [](const auto& a, const auto& b) {
              return a.first.size() > b.first.size();
            });
}

std::string PathRedactor::Redact(std::string_view text) const {
  std::string out(text);
  for (const auto& [dir, placeholder] : directories_) {
    size_t at = 0;
    while ((at = out.find(dir, at)) != std::string::npos) {
      out.replace(at, dir.size(), placeholder);
      at += placeholder.size();
    }
  }
  return out;
}

absl::Status PathRedactor::Redact(const absl::Status& status) const {
  if (status.ok()) return status;
  return absl::Status(status.code(), Redact(ToStd(status.message())));
}

}  // namespace serval
