// How `serval tune` walks the grid. Quick: hill climbing from the model's
// own configuration and a few seeds, a sweep along one direction stopping
// once `patience` steps in a row each gained less than `min_gain`. Brute:
// every point, to check quick. The search knows nothing of servers: it
// asks an evaluator for each point's assessment (the tuner measures it;
// tests fake it). Used from one thread.
#ifndef SERVAL_TOOLS_TUNE_SEARCH_H_
#define SERVAL_TOOLS_TUNE_SEARCH_H_

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "tools/tune/objective.h"
#include "tools/tune/search_space.h"

namespace serval::tune {

// nullopt: stop searching (interrupted, or out of trials or time).
using Evaluator = std::function<std::optional<Assessment>(const Point&)>;

struct SearchOptions {
  double min_gain = 0.05;
  int patience = 2;
  // The load the model's own configuration is first measured under.
  double start_load = 8;
};

class Search {
 public:
  Search(const SearchSpace* space, Evaluator evaluate, SearchOptions options)
      : space_(space), evaluate_(std::move(evaluate)), options_(options) {}

  // The best point found; nullopt when nothing was measured.
  std::optional<Point> Quick();
  std::optional<Point> Brute();

  // The default configuration at its best load (the baseline the report
  // compares against); nullopt before Quick or Brute has run.
  std::optional<Point> baseline() const { return baseline_; }
  int evaluated() const { return static_cast<int>(cache_.size()); }

 private:
  // nullopt once the evaluator asked to stop.
  std::optional<Assessment> Eval(const Point& p);
  // Climbs from `start` along `dims` (and the instances/threads trade when
  // both are included) until no direction improves.
  Point Climb(Point start, const std::vector<Dim>& dims);
  // `p` at each load of the space.
  std::vector<Point> AtEveryLoad(const Point& p) const;
  // The best evaluated point among `points`.
  std::optional<Point> BestOf(const std::vector<Point>& points) const;
  void Note(const Point& p);

  const SearchSpace* space_;
  Evaluator evaluate_;
  SearchOptions options_;
  std::map<Point, Assessment> cache_;
  std::optional<Point> best_;
  std::optional<Point> baseline_;
  bool stopped_ = false;
};

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_SEARCH_H_
