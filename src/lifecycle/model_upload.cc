#include "lifecycle/model_upload.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "repository/model_name.h"
#include "repository/repository_scanner.h"

namespace serval {
namespace fs = std::filesystem;
namespace {

// Triton's phrase first: its clients look for it.
absl::Status BadName(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("Invalid file path: uploaded file name 'file:",
                   ToAbsl(name.substr(0, 300)), "' ", ToAbsl(why)));
}

// The longest file name component the file systems take (NAME_MAX).
constexpr size_t kMaxComponentBytes = 255;

bool IsVersionName(std::string_view s) {
  return ParseVersionDirectoryName(s).ok();
}

}  // namespace

absl::StatusOr<std::string> ValidateUploadName(std::string_view name) {
  if (name.empty()) return BadName(name, "is empty");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return BadName(name, "contains a control character");
    }
    if (c == '\\') return BadName(name, "contains a backslash");
  }
  if (name.front() == '/') {
    return BadName(name, "is absolute; expected <version>/<file>");
  }
  std::vector<std::string> parts = absl::StrSplit(ToAbsl(name), '/');
  for (const std::string& part : parts) {
    if (part.empty()) return BadName(name, "has an empty path component");
    if (part == "." || part == "..") {
      return BadName(name, "contains '.' or '..'; expected <version>/<file>");
    }
    if (part.size() > kMaxComponentBytes) {
      return BadName(name, absl::StrCat("has a component longer than ",
                                        kMaxComponentBytes, " bytes"));
    }
  }
  if (parts.size() == 1) {
    if (IsVersionName(parts[0])) {
      return BadName(name, "names a version directory, not a file");
    }
    if (parts[0] == kModelConfigFileName) {
      return BadName(name,
                     "is the model configuration; send it as the 'config' "
                     "parameter instead");
    }
  } else if (!IsVersionName(parts[0])) {
    return BadName(name,
                   "does not start with a version number; expected "
                   "<version>/<file>");
  }
  return absl::StrJoin(parts, "/");
}

absl::Status ValidateUpload(const std::map<std::string, std::string>& files,
                            const UploadLimits& limits) {
  if (files.size() > limits.max_files) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many uploaded files: ", files.size(), "; at most ",
                     limits.max_files, " are accepted"));
  }
  uint64_t total = 0;
  for (const auto& [name, bytes] : files) {
    ASSIGN_OR_RETURN(auto valid, ValidateUploadName(name));
    total += bytes.size();
    if (total > limits.max_total_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("uploaded model files exceed the limit of ",
                       limits.max_total_bytes, " bytes (--max-upload-bytes)"));
    }
  }
  return absl::OkStatus();
}

OwnedDirectory::~OwnedDirectory() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

absl::StatusOr<std::shared_ptr<OwnedDirectory>> WriteUploadedModel(
    const std::string& root, const std::string& model,
    const std::map<std::string, std::string>& files,
    const UploadLimits& limits) {
  RETURN_IF_ERROR(ValidateModelName(model));
  RETURN_IF_ERROR(ValidateUpload(files, limits));

  std::error_code ec;
  fs::create_directories(root, ec);
  std::string pattern = (fs::path(root) / "upload-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat(
        "cannot create a directory for uploaded files under ", root));
  }
  auto dir = std::make_shared<OwnedDirectory>(pattern);
  const fs::path model_dir = fs::path(dir->path()) / model;
  fs::create_directory(model_dir, ec);
  for (const auto& [name, bytes] : files) {
    const fs::path file = model_dir / *ValidateUploadName(name);
    fs::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      return absl::InternalError(
          absl::StrCat("cannot write uploaded file ", file.string()));
    }
  }
  return dir;
}

}  // namespace serval
