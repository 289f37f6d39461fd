#include "lifecycle/serving_map.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"

namespace serval {

const ServingMap::Model* ServingMap::Find(std::string_view model) const {
  auto it = models_.find(ToAbsl(model));
  return it == models_.end() ? nullptr : &it->second;
}

absl::StatusOr<ModelHandle> ServingMap::Get(std::string_view model,
                                            int64_t version) const {
  const Model* m = Find(model);
  if (m == nullptr) {
    return absl::NotFoundError(absl::StrCat("Request for unknown model: '",
                                            ToAbsl(model), "' is not found"));
  }
  if (version < 0) {
    if (!m->ready.empty()) return m->ready.back();
    if (m->loading) {
      // A replica restarting behind a load balancer: retryable elsewhere.
      return absl::UnavailableError(
          absl::StrCat("Request for unknown model: '", ToAbsl(model),
                       "' has no available versions yet: a version is "
                       "loading; retry later"));
    }
    return absl::NotFoundError(absl::StrCat(
        "Request for unknown model: '", ToAbsl(model),
        "' has no available versions",
        m->problem.empty() ? "" : absl::StrCat(" (", m->problem, ")")));
  }
  for (const ModelHandle& h : m->ready) {
    if (h->version() == version) return h;
  }
  std::vector<int64_t> ready;
  for (const ModelHandle& h : m->ready) ready.push_back(h->version());
  const std::string serving = absl::StrCat(
      " (ready versions: ", ready.empty() ? "none" : absl::StrJoin(ready, ", "),
      ")");
  if (std::find(m->known.begin(), m->known.end(), version) != m->known.end()) {
    return absl::UnavailableError(
        absl::StrCat("Request for unknown model: '", ToAbsl(model),
                     "' version ", version, " is not at ready state", serving));
  }
  return absl::NotFoundError(absl::StrCat("Request for unknown model: '",
                                          ToAbsl(model), "' version ", version,
                                          " is not found", serving));
}

absl::StatusOr<std::vector<ModelHandle>> ServingMap::ReadyVersions(
    std::string_view model) const {
  const Model* m = Find(model);
  if (m == nullptr) {
    return absl::NotFoundError(absl::StrCat("Request for unknown model: '",
                                            ToAbsl(model), "' is not found"));
  }
  return m->ready;
}
std::vector<ModelHandle> ServingMap::AllReady() const {
  std::vector<ModelHandle> out;
  for (const auto& [name, m] : models_) {
    out.insert(out.end(), m.ready.begin(), m.ready.end());
  }
  // By name, then version, whatever the hash order.
  std::sort(out.begin(), out.end(),
            [](const ModelHandle& a, const ModelHandle& b) {
              return std::make_pair(std::string_view(a->name()), a->version()) <
                     std::make_pair(std::string_view(b->name()), b->version());
            });
  return out;
}

}  // namespace serval
