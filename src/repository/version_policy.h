// Applies a model's version_policy (Triton semantics) to the versions found
// on disk, deciding which versions to load. Stateless; thread-safe.
#ifndef SERVAL_REPOSITORY_VERSION_POLICY_H_
#define SERVAL_REPOSITORY_VERSION_POLICY_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "proto/model_config.pb.h"

namespace serval {

struct VersionSelection {
  // Versions to load, ascending. May be empty (e.g. a specific policy naming
  // only absent versions); the caller decides whether that fails the model.
  std::vector<int64_t> versions;
  // Versions a `specific` policy names that are not on disk, ascending.
  std::vector<int64_t> missing;
};

// latest {num_versions: n}: the n highest available versions (all of them
// when fewer exist); all {}: every available version; specific {versions}:
// those available, the rest reported in `missing`. An unset policy means
// latest 1, as in Triton. INVALID_ARGUMENT for latest with num_versions 0.
// `available` need not be sorted; duplicates are ignored.
absl::StatusOr<VersionSelection> SelectVersions(
    const inference::ModelVersionPolicy& policy,
    absl::Span<const int64_t> available);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_VERSION_POLICY_H_
