// ServingMap: an immutable picture of what serves right now, for each known
// model its ready versions (newest precomputed) or why it has none. The
// ModelManager builds a new one under its lock whenever a version starts or
// stops serving and publishes it atomically; requests read the published
// map without taking any lock. Immutable after construction; thread-safe.
#ifndef SERVAL_LIFECYCLE_SERVING_MAP_H_
#define SERVAL_LIFECYCLE_SERVING_MAP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lifecycle/model_version.h"

namespace serval {

class ServingMap {
 public:
  struct Model {
    std::vector<ModelHandle> ready;  // ascending version
    // Every version the manager knows of, ready or not (ascending).
    std::vector<int64_t> known;
    // Why it has no ready version (a failed load, "unloaded"), if known.
    std::string problem;
    // A version of it is being loaded: a request that finds none ready is
    // told to retry (UNAVAILABLE), not that the model is gone.
    bool loading = false;
  };

  ServingMap() = default;
  explicit ServingMap(absl::flat_hash_map<std::string, Model> models)
      : models_(std::move(models)) {}

  // version -1: the newest ready version. Errors use Triton's wording,
  // which clients match on, followed by serval's detail: NOT_FOUND
  // "Request for unknown model: 'm' is not found" / "... version 3 is not
  // found" / "... has no available versions", UNAVAILABLE "... version 3
  // is not at ready state" for a version that exists but does not serve.
  absl::StatusOr<ModelHandle> Get(std::string_view model,
                                  int64_t version) const;
  // Ready versions of a model, ascending; NOT_FOUND for an unknown model.
  absl::StatusOr<std::vector<ModelHandle>> ReadyVersions(
      std::string_view model) const;
  std::vector<ModelHandle> AllReady() const;

 private:
  const Model* Find(std::string_view model) const;

  absl::flat_hash_map<std::string, Model> models_;
};

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_SERVING_MAP_H_
