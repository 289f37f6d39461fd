#include "repository/repository_scanner.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "repository/model_name.h"

namespace serval {
namespace {

namespace fs = std::filesystem;

absl::Status FromErrorCode(const std::error_code& ec, std::string_view what) {
  return absl::Status(absl::ErrnoToStatusCode(ec.value()),
                      absl::StrCat(ToAbsl(what), ": ", ec.message()));
}

bool IsHidden(std::string_view name) { return !name.empty() && name[0] == '.'; }

struct Entry {
  std::string name;
  fs::path path;
};

// Lists a directory's entries sorted by name, so problems are reported in a
// reproducible order.
absl::StatusOr<std::vector<Entry>> ListDirectory(const fs::path& dir,
                                                 std::string_view what) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return FromErrorCode(ec, absl::StrCat("cannot list ", ToAbsl(what)));
  std::vector<Entry> entries;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    entries.push_back({it->path().filename().string(), it->path()});
  }
  if (ec) return FromErrorCode(ec, absl::StrCat("cannot list ", ToAbsl(what)));
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return entries;
}

bool IsDirectory(const fs::path& path) {
  std::error_code ec;  // A dangling symlink is simply not a directory.
  return fs::is_directory(path, ec);
}

// Checks a root and returns its canonical form (to detect a root given twice).
absl::StatusOr<fs::path> CheckRoot(const std::string& root) {
  const std::string what = absl::StrCat("model repository '", root, "'");
  std::error_code ec;
  const fs::file_status status = fs::status(root, ec);
  if (ec || !fs::exists(status)) {
    if (!ec || ec == std::errc::no_such_file_or_directory) {
      return absl::NotFoundError(absl::StrCat(what, " does not exist"));
    }
    return FromErrorCode(ec, what);
  }
  if (!fs::is_directory(status)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not a directory"));
  }
  fs::path canonical = fs::canonical(root, ec);
  if (ec) return FromErrorCode(ec, what);
  return canonical;
}

// Scans one model directory whose name is already known to be valid.
absl::StatusOr<ScannedModel> ScanModelDirectory(const std::string& root,
                                                const std::string& name,
                                                const fs::path& dir) {
  const std::string what = absl::StrCat("model directory '", dir.string(), "'");
  absl::StatusOr<std::vector<Entry>> entries = ListDirectory(dir, what);
  if (!entries.ok()) return entries.status();

  ScannedModel model;
  model.name = name;
  model.repository = root;
  model.path = dir.string();
  model.config_path = (dir / kModelConfigFileName).string();
  std::map<int64_t, std::string> versions;  // version -> directory name
  for (const Entry& entry : *entries) {
    if (entry.name == kModelConfigFileName) {
      std::error_code ec;
      if (!fs::is_regular_file(entry.path, ec)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", model.config_path, "' is not a regular file"));
      }
      model.has_config = true;
      continue;
    }
    if (IsHidden(entry.name) || !IsDirectory(entry.path)) continue;
    absl::StatusOr<int64_t> version = ParseVersionDirectoryName(entry.name);
    if (absl::IsNotFound(version.status())) continue;  // e.g. "docs"
    if (!version.ok()) {
      return absl::Status(
          version.status().code(),
          absl::StrCat("version directory '", entry.path.string(),
                       "': ", version.status().message()));
    }
    auto [it, inserted] = versions.emplace(*version, entry.name);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "version directories '", it->second, "' and '", entry.name, "' of ",
          what, " both name version ", *version));
    }
  }
  if (versions.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has no version directory (expected '", model.path,
                     "/<number>/')"));
  }
  for (const auto& [version, dir_name] : versions) {
    model.versions.push_back(version);
    model.version_dirs.push_back(dir_name);
  }
  return model;
}

}  // namespace

std::string ScannedModel::VersionPath(int64_t version) const {
  for (size_t i = 0; i < versions.size(); ++i) {
    if (versions[i] == version)
      return (fs::path(path) / version_dirs[i]).string();
  }
  return "";
}

absl::StatusOr<int64_t> ParseVersionDirectoryName(std::string_view name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return absl::NotFoundError(
        absl::StrCat("'", ToAbsl(name), "' is not a version number"));
  }
  constexpr int64_t kMax = INT64_MAX;
  int64_t value = 0;
  for (char c : name) {
    const int digit = c - '0';
    if (value > (kMax - digit) / 10) {
      return absl::OutOfRangeError(absl::StrCat("version number ", ToAbsl(name),
                                                " does not fit in int64"));
    }
    value = value * 10 + digit;
  }
  return value;
}

absl::StatusOr<RepositoryScan> ScanRepositories(
    const std::vector<std::string>& roots) {
  if (roots.empty()) {
    return absl::InvalidArgumentError("no model repository given");
  }
  std::map<fs::path, std::string> canonical_roots;
  // Model name -> (root, directory) for every root holding that name.
  std::map<std::string, std::vector<std::pair<std::string, fs::path>>> found;
  for (const std::string& root : roots) {
    absl::StatusOr<fs::path> canonical = CheckRoot(root);
    if (!canonical.ok()) return canonical.status();
    auto [it, inserted] = canonical_roots.emplace(*canonical, root);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("model repositories '", it->second, "' and '", root,
                       "' are the same directory"));
    }
    absl::StatusOr<std::vector<Entry>> entries =
        ListDirectory(root, absl::StrCat("model repository '", root, "'"));
    if (!entries.ok()) return entries.status();
    for (Entry& entry : *entries) {
      if (IsHidden(entry.name) || !IsDirectory(entry.path)) continue;
      found[entry.name].emplace_back(root, std::move(entry.path));
    }
  }

  RepositoryScan scan;
  for (const auto& [name, places] : found) {
    if (absl::Status valid = ValidateModelName(name); !valid.ok()) {
      for (const auto& [root, unused] : places) {
        scan.problems.push_back({name, root, valid});
      }
      continue;
    }
    if (places.size() > 1) {
      std::vector<std::string> where;
      for (const auto& [root, unused] : places) where.push_back(root);
      scan.problems.push_back(
          {name, "",
           absl::AlreadyExistsError(absl::StrCat(
               "model '", name, "' is in more than one repository (",
               absl::StrJoin(where, ", "), "); none of them is loaded"))});
      continue;
    }
    const auto& [root, dir] = places.front();
    absl::StatusOr<ScannedModel> model = ScanModelDirectory(root, name, dir);
    if (model.ok()) {
      scan.models.push_back(*std::move(model));
    } else {
      scan.problems.push_back({name, root, model.status()});
    }
  }
  return scan;
}

}  // namespace serval
