#include "tools/tune/search.h"

#include <set>

namespace serval::tune {

std::optional<Assessment> Search::Eval(const Point& raw) {
  if (stopped_) return std::nullopt;
  const Point p = space_->Canonical(raw);
  auto it = cache_.find(p);
  if (it != cache_.end()) return it->second;
  std::optional<Assessment> a = evaluate_(p);
  if (!a) {
    stopped_ = true;
    return std::nullopt;
  }
  cache_[p] = *a;
  Note(p);
  return a;
}

void Search::Note(const Point& p) {
  if (!best_ || Better(cache_.at(p), cache_.at(*best_))) best_ = p;
}

Point Search::Climb(Point cur, const std::vector<Dim>& dims) {
  std::vector<Point> moves;
  bool instances = false, threads = false;
  for (Dim d : dims) {
    if (space_->Size(d) < 2) continue;
    Point up{}, down{};
    up[d] = 1;
    down[d] = -1;
    moves.push_back(up);
    moves.push_back(down);
    instances |= d == kInstances;
    threads |= d == kThreads;
  }
  if (instances && threads && space_->Size(kThreads) > 1 &&
      space_->Size(kInstances) > 1) {
    // More instances with fewer threads each, and the reverse: the cores
    // are shared out differently, which one step along either alone cannot
    // reach when instances x threads is at the core count.
    Point a{}, b{};
    a[kInstances] = 1;
    a[kThreads] = -1;
    b[kInstances] = -1;
    b[kThreads] = 1;
    moves.push_back(a);
    moves.push_back(b);
  }
  std::optional<Assessment> here = Eval(cur);
  if (!here) return cur;
  bool moved = true;
  while (moved && !stopped_) {
    moved = false;
    for (const Point& m : moves) {
      Point best_along = cur;
      Assessment best_a = cache_.at(space_->Canonical(cur));
      Point p = cur;
      int stale = 0;
      while (!stopped_) {
        for (int d = 0; d < kDimCount; ++d) p[d] += m[d];
        if (!space_->Valid(p)) break;
        std::optional<Assessment> a = Eval(p);
        if (!a) break;
        const bool gain = BetterBy(*a, best_a, options_.min_gain);
        if (Better(*a, best_a)) {
          best_along = space_->Canonical(p);
          best_a = *a;
        }
        stale = gain ? 0 : stale + 1;
        if (stale >= options_.patience) break;
      }
      if (best_along != space_->Canonical(cur)) {
        cur = best_along;
        moved = true;
      }
    }
  }
  return space_->Canonical(cur);
}

std::vector<Point> Search::AtEveryLoad(const Point& p) const {
  std::vector<Point> out;
  for (int l = 0; l < space_->Size(kLoad); ++l) {
    Point q = p;
    q[kLoad] = l;
    out.push_back(q);
  }
  return out;
}

std::optional<Point> Search::BestOf(const std::vector<Point>& points) const {
  std::optional<Point> best;
  for (const Point& raw : points) {
    auto it = cache_.find(space_->Canonical(raw));
    if (it == cache_.end()) continue;
    if (!best || Better(it->second, cache_.at(*best))) best = it->first;
  }
  return best;
}

std::optional<Point> Search::Quick() {
  // 1. The model's own configuration, at the load that suits it best: the
  //    baseline, and where the climb starts.
  Point start = space_->DefaultPoint(0, options_.start_load);
  Point base = Climb(start, {kLoad});
  baseline_ = base;
  // 2. Every dimension from there.
  std::vector<Dim> all;
  for (int d = 0; d < kDimCount; ++d) all.push_back(static_cast<Dim>(d));
  Climb(base, all);
  // 3. Seeds elsewhere, so one local optimum does not decide: each other
  //    model (format twins) as configured, and the cores shared out the
  //    two extreme ways, at the best point's other values.
  std::vector<Point> seeds;
  for (int m = 1; m < space_->Size(kModel); ++m) {
    Point s = space_->DefaultPoint(m, options_.start_load);
    if (best_) s[kLoad] = (*best_)[kLoad];
    seeds.push_back(s);
  }
  if (best_) {
    Point many = *best_, wide = *best_;
    many[kInstances] = space_->Size(kInstances) - 1;
    many[kThreads] = space_->Nearest(kThreads, 1);
    wide[kInstances] = 0;
    wide[kThreads] = space_->Size(kThreads) - 1;
    seeds.push_back(many);
    seeds.push_back(wide);
  }
  // A seed the climbs above already measured still climbs: its
  // neighbourhood is what the main climb did not explore.
  std::set<Point> climbed = {space_->Canonical(base)};
  for (const Point& s : seeds) {
    if (stopped_) break;
    if (!space_->Valid(s) || !climbed.insert(space_->Canonical(s)).second) {
      continue;
    }
    Climb(s, all);
  }
  // The baseline is the best the default configuration did at any load.
  if (auto b = BestOf(AtEveryLoad(start))) baseline_ = b;
  return best_;
}

std::optional<Point> Search::Brute() {
  const std::vector<Point> all = space_->AllPoints();
  Point start = space_->DefaultPoint(0, options_.start_load);
  // The default configuration first, so every later trial has its
  // reference.
  const std::vector<Point> defaults = AtEveryLoad(start);
  Eval(start);
  for (const Point& p : defaults) Eval(p);
  for (const Point& p : all) {
    if (stopped_) break;
    Eval(p);
  }
  baseline_ = BestOf(defaults);
  return best_;
}

}  // namespace serval::tune
