#include "repository/version_policy.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace serval {

absl::StatusOr<VersionSelection> SelectVersions(
    const inference::ModelVersionPolicy& policy,
    absl::Span<const int64_t> available) {
  const std::set<int64_t> on_disk(available.begin(), available.end());
  VersionSelection selection;
  if (policy.has_all()) {
    selection.versions.assign(on_disk.begin(), on_disk.end());
  } else if (policy.has_specific()) {
    const std::set<int64_t> wanted(policy.specific().versions().begin(),
                                   policy.specific().versions().end());
    for (int64_t version : wanted) {
      (on_disk.count(version) ? selection.versions : selection.missing)
          .push_back(version);
    }
  } else {
    const uint64_t count =
        policy.has_latest() ? policy.latest().num_versions() : 1;
    if (count == 0) {
      return absl::InvalidArgumentError(
          "version_policy.latest.num_versions must be at least 1");
    }
    auto first = on_disk.rbegin();
    for (uint64_t i = 0; i < count && first != on_disk.rend(); ++i) ++first;
    selection.versions.assign(first.base(), on_disk.end());
  }
  return selection;
}

}  // namespace serval
