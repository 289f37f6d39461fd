#include "repository/model_fingerprint.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "repository/repository_scanner.h"

namespace serval {
namespace {

namespace fs = std::filesystem;

struct FileRecord {
  std::string relative_path;
  char type;  // 'f' regular file, 'd' directory, 'o' other
  uint64_t size;
  int64_t mtime_ns;
};

absl::Status FromErrorCode(const std::error_code& ec, std::string_view what) {
  return absl::Status(absl::ErrnoToStatusCode(ec.value()),
                      absl::StrCat(ToAbsl(what), ": ", ec.message()));
}

FileRecord Describe(const fs::path& path, std::string relative_path) {
  std::error_code ec;
  FileRecord record{std::move(relative_path), 'o', 0, 0};
  const fs::file_status status = fs::status(path, ec);  // follows symlinks
  if (fs::is_regular_file(status)) {
    record.type = 'f';
    const uintmax_t size = fs::file_size(path, ec);
    record.size = ec ? 0 : size;
  } else if (fs::is_directory(status)) {
    record.type = 'd';
  }
  const fs::file_time_type mtime = fs::last_write_time(path, ec);
  if (!ec) {
    record.mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          mtime.time_since_epoch())
                          .count();
  }
  return record;
}

// Appends every entry under a version directory (symlinked directories are
// described but not descended into, so a link loop cannot hang the poll).
absl::Status DescribeTree(const fs::path& model_dir, const fs::path& dir,
                          std::vector<FileRecord>* records) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec);
  if (ec)
    return FromErrorCode(ec, absl::StrCat("cannot list '", dir.string(), "'"));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    records->push_back(Describe(
        it->path(), it->path().lexically_relative(model_dir).string()));
  }
  if (ec)
    return FromErrorCode(ec, absl::StrCat("cannot list '", dir.string(), "'"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> FingerprintModelDirectory(std::string_view model_dir) {
  const fs::path root{std::string(model_dir)};
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  const std::string what =
      absl::StrCat("cannot list model directory '", ToAbsl(model_dir), "'");
  if (ec) return FromErrorCode(ec, what);
  std::vector<FileRecord> records;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    std::error_code type_ec;
    if (fs::is_directory(path, type_ec)) {
      if (name.empty() || name[0] == '.' ||
          !ParseVersionDirectoryName(name).ok()) {
        continue;
      }
      records.push_back(Describe(path, name));
      RETURN_IF_ERROR(DescribeTree(root, path, &records));
    } else if (fs::is_regular_file(path, type_ec)) {
      records.push_back(Describe(path, name));
    }
  }
  if (ec) return FromErrorCode(ec, what);

  // Directory order is arbitrary; the hash must not be.
  std::sort(records.begin(), records.end(),
            [](const FileRecord& a, const FileRecord& b) {
              return a.relative_path < b.relative_path;
            });
  StableHash hash;
  for (const FileRecord& record : records) {
    hash.AddString(record.relative_path);
    hash.Add(&record.type, 1);
    hash.AddInt(record.size);
    hash.AddInt(static_cast<uint64_t>(record.mtime_ns));
  }
  hash.AddInt(records.size());
  return hash.value();
}

void ChangeDebouncer::Accept(const std::string& model, uint64_t fingerprint) {
  State& state = states_[model];
  state.has_accepted = true;
  state.accepted = fingerprint;
  state.has_pending = false;
}

ChangeDebouncer::Verdict ChangeDebouncer::Observe(const std::string& model,
                                                  uint64_t fingerprint) {
  State& state = states_[model];
  if (state.has_accepted && state.accepted == fingerprint) {
    state.has_pending = false;  // A transient change was undone.
    return Verdict::kUnchanged;
  }
  if (state.has_pending && state.pending == fingerprint) {
    Accept(model, fingerprint);
    return Verdict::kChanged;
  }
  state.has_pending = true;
  state.pending = fingerprint;
  return Verdict::kSettling;
}

void ChangeDebouncer::Forget(const std::string& model) { states_.erase(model); }

}  // namespace serval
