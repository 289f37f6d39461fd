// Scans model repositories: `<root>/<model>/config.pbtxt` and
// `<root>/<model>/<version>/<files>`. Finds what is on disk; it neither parses
// configurations nor applies version policies (see version_policy.h).
//
// A bad model never fails the scan: it is reported as a ModelProblem and the
// healthy models are still returned, so the server can serve them. Only a
// root that cannot be listed fails the whole scan.
//
// Stateless free functions; safe to call from any thread.
#ifndef SERVAL_REPOSITORY_REPOSITORY_SCANNER_H_
#define SERVAL_REPOSITORY_REPOSITORY_SCANNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace serval {

class RepositoryListing;  // model_store.h

inline constexpr std::string_view kModelConfigFileName = "config.pbtxt";

// A model directory that looks loadable.
struct ScannedModel {
  std::string name;
  // The repository root it was found in, as given to the scan.
  std::string repository;
  // <repository>/<name>.
  std::string path;
  // <path>/config.pbtxt; it may be absent (has_config == false) when the
  // backend can auto-complete the configuration.
  std::string config_path;
  bool has_config = false;
  // Numeric version directories found, ascending, never empty.
  std::vector<int64_t> versions;
  // Directory name of each version, same order ("007" for version 7).
  std::vector<std::string> version_dirs;

  // The listing the model was found in, which makes its files local
  // (model_store.h: LocalizeModel). Null for a model already on local disk
  // outside any store.
  std::shared_ptr<const RepositoryListing> listing;
  // Set by a scan asked for fingerprints (ScanStores).
  uint64_t fingerprint = 0;

  // <path>/<directory of version>; empty when `version` was not found.
  std::string VersionPath(int64_t version) const;
};

// A model that cannot be loaded, and why. `repository` is empty when the
// problem spans several repositories (the same name in two of them).
struct ModelProblem {
  std::string name;
  std::string repository;
  absl::Status status;
};

struct RepositoryScan {
  // Sorted by name; names are unique across all roots.
  std::vector<ScannedModel> models;
  // Sorted by name. A name is never in both lists.
  std::vector<ModelProblem> problems;
};

// Scans every root. What is skipped silently: plain files in a root, hidden
// entries (names starting with '.', e.g. ".git"), and non-numeric or hidden
// entries inside a model directory (Triton does the same). What is a problem
// for a model: an invalid name (model_name.h), a directory that cannot be
// listed, no numeric version directory, a version number beyond int64, two
// directories naming the same version ("1" and "01"), a config.pbtxt that is
// not a regular file, and the same model name in two roots (then the name is
// refused in every root, as Triton does). Errors: no roots, a root given
// twice, or a root that is missing, not a directory or unreadable.
absl::StatusOr<RepositoryScan> ScanRepositories(
    const std::vector<std::string>& roots);

// Parses a version directory name: ASCII digits only. NOT_FOUND when the
// name is not a version at all (ignored by the scan), OUT_OF_RANGE when it is
// numeric but exceeds int64.
absl::StatusOr<int64_t> ParseVersionDirectoryName(std::string_view name);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_REPOSITORY_SCANNER_H_
