// Where model repositories live: a local directory, or an object store
// (repository/storage/). The scanner, the manager and the poller see every
// store through these two interfaces, so a new kind of store is one new
// class and nothing else changes.
//
// A ModelStore lists its root as one consistent RepositoryListing (for an
// object store: one listing pass over the bucket prefix, however many models
// it holds). The scan reads the tree from the listing, the poller the
// fingerprints, and a load asks the listing to make a model's files local
// (Localize: nothing to do for a directory; download into the content cache
// for an object store).
#ifndef SERVAL_REPOSITORY_MODEL_STORE_H_
#define SERVAL_REPOSITORY_MODEL_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "repository/repository_scanner.h"

namespace serval {

struct ListingEntry {
  enum class Kind { kFile, kDirectory, kOther };
  std::string name;
  Kind kind = Kind::kOther;
};

// A model whose files are on local disk now.
struct LocalModel {
  ScannedModel model;  // paths point at local files; `listing` is null
  // Keeps the files there while a loaded version uses them; null when the
  // files are the repository's own.
  std::shared_ptr<const void> owner;
};

// One view of a store's root, taken at one time. Immutable once made;
// thread-safe.
class RepositoryListing {
 public:
  virtual ~RepositoryListing() = default;
  // The entries directly under `dir` ("" is the root; "a/b" below it),
  // sorted by name. NOT_FOUND when `dir` is not a directory of the listing.
  virtual absl::StatusOr<std::vector<ListingEntry>> List(
      std::string_view dir) const = 0;
  // The path a user knows `relative` by: a file system path, or
  // s3://bucket/prefix/relative.
  virtual std::string PathOf(std::string_view relative) const = 0;
  // Changes whenever a file of the model changes (its config, its top-level
  // files, anything under its version directories); stable otherwise.
  virtual absl::StatusOr<uint64_t> Fingerprint(
      const ScannedModel& model) const = 0;
  // Makes the model's files local; may download. A failure leaves nothing
  // half-written behind that a later load could pick up.
  virtual absl::StatusOr<LocalModel> Localize(
      const ScannedModel& model) const = 0;
};

class ModelStore {
 public:
  virtual ~ModelStore() = default;
  // The root as the user gave it (--model-repository).
  virtual const std::string& root() const = 0;
  // A normalized name of the root: two roots with the same identity are the
  // same repository given twice.
  virtual absl::StatusOr<std::string> Identity() const = 0;
  // Lists the root. Fails when the root is missing or cannot be read.
  virtual absl::StatusOr<std::shared_ptr<const RepositoryListing>> List()
      const = 0;
};

// A repository on the local file system.
std::shared_ptr<ModelStore> MakeLocalStore(std::string root);

using ModelStores = std::vector<std::shared_ptr<ModelStore>>;

// ScanRepositories over stores of any kind. With `fingerprints`, each model
// also gets its fingerprint (ScannedModel::fingerprint), from the same
// listing the scan read.
absl::StatusOr<RepositoryScan> ScanStores(const ModelStores& stores,
                                          bool fingerprints = false);

// Makes a scanned model's files local through the listing it came from; a
// model without one (built by hand) is already local.
absl::StatusOr<LocalModel> LocalizeModel(const ScannedModel& model);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_MODEL_STORE_H_
