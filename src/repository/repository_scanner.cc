#include "repository/repository_scanner.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "repository/model_name.h"
#include "repository/model_store.h"

namespace serval {
namespace {

namespace fs = std::filesystem;

bool IsHidden(std::string_view name) { return !name.empty() && name[0] == '.'; }

// Scans one model directory whose name is already known to be valid.
absl::StatusOr<ScannedModel> ScanModelDirectory(
    const std::string& root, const std::string& name,
    const std::shared_ptr<const RepositoryListing>& listing) {
  ScannedModel model;
  model.name = name;
  model.repository = root;
  model.path = listing->PathOf(name);
  model.config_path =
      listing->PathOf(absl::StrCat(name, "/", ToAbsl(kModelConfigFileName)));
  model.listing = listing;
  const std::string what = absl::StrCat("model directory '", model.path, "'");
  absl::StatusOr<std::vector<ListingEntry>> entries = listing->List(name);
  if (!entries.ok()) {
    return absl::Status(
        entries.status().code(),
        absl::StrCat("cannot list ", what, ": ", entries.status().message()));
  }
  std::map<int64_t, std::string> versions;  // version -> directory name
  for (const ListingEntry& entry : *entries) {
    if (entry.name == kModelConfigFileName) {
      if (entry.kind != ListingEntry::Kind::kFile) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", model.config_path, "' is not a regular file"));
      }
      model.has_config = true;
      continue;
    }
    if (IsHidden(entry.name) || entry.kind != ListingEntry::Kind::kDirectory) {
      continue;
    }
    absl::StatusOr<int64_t> version = ParseVersionDirectoryName(entry.name);
    if (absl::IsNotFound(version.status())) continue;  // e.g. "docs"
    if (!version.ok()) {
      return absl::Status(
          version.status().code(),
          absl::StrCat("version directory '",
                       listing->PathOf(absl::StrCat(name, "/", entry.name)),
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
  ModelStores stores;
  for (const std::string& root : roots) stores.push_back(MakeLocalStore(root));
  return ScanStores(stores);
}

absl::StatusOr<RepositoryScan> ScanStores(const ModelStores& stores,
                                          bool fingerprints) {
  if (stores.empty()) {
    return absl::InvalidArgumentError("no model repository given");
  }
  std::map<std::string, std::string> identities;  // identity -> root
  struct Place {
    std::string root;
    std::shared_ptr<const RepositoryListing> listing;
  };
  // Model name -> every root holding that name.
  std::map<std::string, std::vector<Place>> found;
  for (const auto& store : stores) {
    const std::string& root = store->root();
    ASSIGN_OR_RETURN(std::string identity, store->Identity());
    auto [it, inserted] = identities.emplace(identity, root);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model repositories '", it->second, "' and '", root,
          "' are the same ",
          identity.rfind("s3://", 0) == 0 ? "bucket and prefix" : "directory"));
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const RepositoryListing> listing,
                     store->List());
    absl::StatusOr<std::vector<ListingEntry>> entries = listing->List("");
    if (!entries.ok()) {
      return absl::Status(entries.status().code(),
                          absl::StrCat("cannot list model repository '", root,
                                       "': ", entries.status().message()));
    }
    for (ListingEntry& entry : *entries) {
      if (IsHidden(entry.name) ||
          entry.kind != ListingEntry::Kind::kDirectory) {
        continue;
      }
      found[entry.name].push_back({root, listing});
    }
  }

  RepositoryScan scan;
  for (const auto& [name, places] : found) {
    if (absl::Status valid = ValidateModelName(name); !valid.ok()) {
      for (const Place& place : places) {
        scan.problems.push_back({name, place.root, valid});
      }
      continue;
    }
    if (places.size() > 1) {
      std::vector<std::string> where;
      for (const Place& place : places) where.push_back(place.root);
      scan.problems.push_back(
          {name, "",
           absl::AlreadyExistsError(absl::StrCat(
               "model '", name, "' is in more than one repository (",
               absl::StrJoin(where, ", "), "); none of them is loaded"))});
      continue;
    }
    const Place& place = places.front();
    absl::StatusOr<ScannedModel> model =
        ScanModelDirectory(place.root, name, place.listing);
    if (model.ok() && fingerprints) {
      absl::StatusOr<uint64_t> fingerprint = place.listing->Fingerprint(*model);
      if (!fingerprint.ok()) {
        model = fingerprint.status();
      } else {
        model->fingerprint = *fingerprint;
      }
    }
    if (model.ok()) {
      scan.models.push_back(*std::move(model));
    } else {
      scan.problems.push_back({name, place.root, model.status()});
    }
  }
  return scan;
}

absl::StatusOr<LocalModel> LocalizeModel(const ScannedModel& model) {
  if (model.listing == nullptr) return LocalModel{model, nullptr};
  return model.listing->Localize(model);
}

}  // namespace serval
