#include "tools/tune/search_space.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace serval::tune {
namespace {

// 1, 2, 4, ... up to `limit`, and `limit` itself.
std::vector<int> PowersOfTwo(int limit) {
  std::vector<int> out;
  for (int v = 1; v <= limit; v *= 2) out.push_back(v);
  if (out.empty() || out.back() != limit) out.push_back(limit);
  return out;
}

template <typename T>
void SortUnique(std::vector<T>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

template <typename T>
int NearestIndex(const std::vector<T>& values, double v) {
  int best = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    if (std::fabs(static_cast<double>(values[i]) - v) <
        std::fabs(static_cast<double>(values[best]) - v)) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace

const char* DimName(Dim d) {
  switch (d) {
    case kModel:
      return "model";
    case kInstances:
      return "instances";
    case kThreads:
      return "threads";
    case kMaxBatch:
      return "max_batch_size";
    case kDelay:
      return "queue_delay_us";
    case kPreferred:
      return "preferred";
    case kLoad:
      return "load";
    case kDimCount:
      break;
  }
  return "?";
}

std::string Candidate::Key() const {
  return absl::StrFormat("%s|i%d|t%d|b%d|d%d|p%s|l%g", model, instances,
                         threads, max_batch_size, delay_us, preferred, load);
}

std::string Candidate::ConfigLabel() const {
  std::string out = absl::StrCat(instances, "x");
  absl::StrAppend(&out, threads > 0 ? absl::StrCat(threads) : "auto", " thr");
  if (max_batch_size > 0) {
    absl::StrAppend(&out, ", batch ", max_batch_size);
    if (max_batch_size > 1) {
      absl::StrAppend(&out, ", delay ", delay_us, "us");
      if (preferred != "none") absl::StrAppend(&out, ", pref ", preferred);
    }
  }
  return out;
}

absl::StatusOr<SearchSpace> SearchSpace::Build(
    const std::vector<ModelFacts>& models, const SpaceOptions& o) {
  if (models.empty()) return absl::InvalidArgumentError("no model to tune");
  SearchSpace s;
  s.facts_ = models;
  s.open_loop_ = o.open_loop;
  s.cores_ = std::max(1, o.cores);
  const ModelFacts& first = models.front();
  bool any_threads = false;
  for (const ModelFacts& m : models) {
    s.models_.push_back(m.name);
    any_threads |= m.has_threads;
    if ((m.max_batch_size > 0) != (first.max_batch_size > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "models '", first.name, "' and '", m.name,
          "' differ in batching (max_batch_size ", first.max_batch_size,
          " and ", m.max_batch_size, "); tune them apart"));
    }
  }
  const bool batching = first.max_batch_size > 0;

  s.instances_ = o.instances;
  if (s.instances_.empty()) {
    s.instances_ = PowersOfTwo(s.cores_);
    for (const ModelFacts& m : models) s.instances_.push_back(m.instances);
  }
  s.threads_ = o.threads;
  if (s.threads_.empty()) {
    s.threads_ = any_threads ? PowersOfTwo(s.cores_) : std::vector<int>{0};
  }
  s.max_batch_.clear();
  if (!batching) {
    s.max_batch_ = {0};
  } else if (!o.max_batch.empty()) {
    s.max_batch_ = o.max_batch;
  } else {
    s.max_batch_ = PowersOfTwo(std::min(2 * first.max_batch_size, 256));
    s.max_batch_.push_back(first.max_batch_size);
  }
  s.delay_us_ = o.delay_us;
  if (s.delay_us_.empty()) {
    s.delay_us_ = batching ? std::vector<int64_t>{0, 100, 1000, 5000}
                           : std::vector<int64_t>{0};
    if (batching) s.delay_us_.push_back(first.delay_us);
  }
  s.preferred_ = o.preferred;
  if (s.preferred_.empty()) {
    s.preferred_ = {"none"};
    if (batching) s.preferred_.push_back("max");
    if (first.preferred != "none" && first.preferred != "max") {
      s.preferred_.push_back(first.preferred);
    }
  }
  s.load_ = o.load;
  if (s.load_.empty()) {
    if (o.open_loop) {
      return absl::InvalidArgumentError("open loop needs a request rate");
    }
    s.load_ = {1, 2, 4, 8, 16, 32, 64, 128};
  }
  SortUnique(&s.instances_);
  SortUnique(&s.threads_);
  SortUnique(&s.max_batch_);
  SortUnique(&s.delay_us_);
  SortUnique(&s.load_);
  // Preferred sizes keep the given order ("none" first when present).
  std::vector<std::string> pref;
  for (const std::string& p : s.preferred_) {
    if (std::find(pref.begin(), pref.end(), p) == pref.end()) pref.push_back(p);
  }
  s.preferred_ = pref;
  for (int v : s.instances_) {
    if (v < 1) return absl::InvalidArgumentError("instances must be >= 1");
  }
  for (int v : s.threads_) {
    if (v < 0) return absl::InvalidArgumentError("threads must be >= 0");
  }
  for (int v : s.max_batch_) {
    if (batching && v < 1) {
      return absl::InvalidArgumentError("max_batch_size values must be >= 1");
    }
  }
  for (int64_t v : s.delay_us_) {
    if (v < 0) return absl::InvalidArgumentError("queue delay must be >= 0");
  }
  for (double v : s.load_) {
    if (!(v > 0)) return absl::InvalidArgumentError("load must be > 0");
  }
  if (s.AllPoints().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no configuration fits: every instances x threads exceeds ", s.cores_,
        " cores"));
  }
  return s;
}

int SearchSpace::Size(Dim d) const {
  switch (d) {
    case kModel:
      return static_cast<int>(models_.size());
    case kInstances:
      return static_cast<int>(instances_.size());
    case kThreads:
      return static_cast<int>(threads_.size());
    case kMaxBatch:
      return static_cast<int>(max_batch_.size());
    case kDelay:
      return static_cast<int>(delay_us_.size());
    case kPreferred:
      return static_cast<int>(preferred_.size());
    case kLoad:
      return static_cast<int>(load_.size());
    case kDimCount:
      break;
  }
  return 0;
}

bool SearchSpace::Valid(const Point& p) const {
  for (int d = 0; d < kDimCount; ++d) {
    if (p[d] < 0 || p[d] >= Size(static_cast<Dim>(d))) return false;
  }
  const int instances = instances_[p[kInstances]];
  const int threads = threads_[p[kThreads]];
  // Threads left to the backend default to cores / instances: they never
  // oversubscribe, whatever the count.
  if (threads > 0 && facts_[p[kModel]].has_threads) {
    return instances * threads <= cores_;
  }
  return true;
}

Point SearchSpace::Canonical(const Point& p) const {
  Point c = p;
  if (!facts_[c[kModel]].has_threads) c[kThreads] = 0;
  if (max_batch_[c[kMaxBatch]] <= 1) {
    c[kDelay] = 0;
    c[kPreferred] = 0;
  }
  return c;
}

std::vector<Point> SearchSpace::AllPoints() const {
  std::vector<Point> out;
  Point p{};
  // An odometer over the grid, keeping canonical points once.
  while (true) {
    if (Valid(p) && Canonical(p) == p) out.push_back(p);
    int d = kDimCount - 1;
    while (d >= 0 && ++p[d] >= Size(static_cast<Dim>(d))) p[d--] = 0;
    if (d < 0) break;
  }
  return out;
}

Candidate SearchSpace::At(const Point& p) const {
  Candidate c;
  c.model = models_[p[kModel]];
  c.instances = instances_[p[kInstances]];
  c.threads = facts_[p[kModel]].has_threads ? threads_[p[kThreads]] : 0;
  c.max_batch_size = max_batch_[p[kMaxBatch]];
  c.delay_us = delay_us_[p[kDelay]];
  c.preferred = preferred_[p[kPreferred]];
  c.load = load_[p[kLoad]];
  return c;
}

int SearchSpace::Nearest(Dim d, double v) const {
  switch (d) {
    case kInstances:
      return NearestIndex(instances_, v);
    case kThreads:
      return NearestIndex(threads_, v);
    case kMaxBatch:
      return NearestIndex(max_batch_, v);
    case kDelay:
      return NearestIndex(delay_us_, v);
    case kLoad:
      return NearestIndex(load_, v);
    default:
      return 0;
  }
}

Point SearchSpace::DefaultPoint(int model_index, double load) const {
  const ModelFacts& m = facts_[model_index];
  Point p{};
  p[kModel] = model_index;
  p[kInstances] = Nearest(kInstances, m.instances);
  // Unset threads are the backend's default, cores / instances.
  const int threads = m.threads > 0
                          ? m.threads
                          : std::max(1, cores_ / std::max(1, m.instances));
  p[kThreads] = Nearest(kThreads, threads);
  p[kMaxBatch] = Nearest(kMaxBatch, m.max_batch_size);
  p[kDelay] = Nearest(kDelay, static_cast<double>(m.delay_us));
  for (size_t i = 0; i < preferred_.size(); ++i) {
    if (preferred_[i] == m.preferred) p[kPreferred] = static_cast<int>(i);
  }
  p[kLoad] = Nearest(kLoad, load);
  // A configured count beyond the cores: step threads down until it fits.
  while (!Valid(p) && p[kThreads] > 0) --p[kThreads];
  while (!Valid(p) && p[kInstances] > 0) --p[kInstances];
  return Canonical(p);
}

std::string SearchSpace::Describe() const {
  auto join = [](const auto& v) { return absl::StrJoin(v, ","); };
  std::string out = absl::StrCat("models ", absl::StrJoin(models_, ","),
                                 "; instances ", join(instances_));
  absl::StrAppend(&out, "; threads ", join(threads_));
  if (max_batch_.size() > 1 || max_batch_[0] > 0) {
    absl::StrAppend(&out, "; max_batch_size ", join(max_batch_),
                    "; queue delay us ", join(delay_us_), "; preferred ",
                    absl::StrJoin(preferred_, ","));
  }
  absl::StrAppend(&out, open_loop_ ? "; request rate " : "; concurrency ",
                  join(load_), "; ", AllPoints().size(), " points within ",
                  cores_, " cores");
  return out;
}

}  // namespace serval::tune
