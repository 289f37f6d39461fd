// What `serval tune` may change, as a grid: one list of values per
// dimension, and points that index into them. A point is a candidate
// configuration plus the load it is measured under. Points whose values
// make no difference (the queue delay of a model that does not batch) are
// folded onto one canonical point, so the same configuration is never
// measured twice. Plain values; safe from any thread.
#ifndef SERVAL_TOOLS_TUNE_SEARCH_SPACE_H_
#define SERVAL_TOOLS_TUNE_SEARCH_SPACE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace serval::tune {

// The dimensions, in the order a point lists them.
enum Dim : int {
  kModel = 0,  // which model (format twins: "resnet50_onnx", ...)
  kInstances,  // instance_group count
  kThreads,    // intra_op_thread_count per instance (0: as configured)
  kMaxBatch,   // max_batch_size
  kDelay,      // dynamic_batching max_queue_delay_microseconds
  kPreferred,  // preferred_batch_size: "none", "max" or "4;8"
  kLoad,       // concurrency (closed loop) or requests/s (open loop)
  kDimCount
};

const char* DimName(Dim d);

using Point = std::array<int, kDimCount>;

// One configuration to try and the load to measure it under.
struct Candidate {
  std::string model;
  int instances = 1;
  int threads = 0;         // 0: leave the model's own setting
  int max_batch_size = 0;  // 0: the model does not batch
  int64_t delay_us = 0;
  std::string preferred = "none";
  double load = 1;

  // A stable text naming the candidate, used as the key of the results
  // file (resuming matches on it) and in the report.
  std::string Key() const;
  // "2x1 thr, batch 8, delay 500us, pref max" (without the model or load).
  std::string ConfigLabel() const;
};

// What the tool learnt of a model before searching.
struct ModelFacts {
  std::string name;
  int max_batch_size = 0;    // as configured
  int instances = 1;         // as configured (the sum of its groups)
  int threads = 0;           // intra_op_thread_count as configured, 0: none
  bool has_threads = false;  // its backend takes intra_op_thread_count
  bool dynamic_batching = false;
  int64_t delay_us = 0;
  std::string preferred = "none";
};

// Values per dimension given by the user; an empty list takes the default.
struct SpaceOptions {
  std::vector<int> instances;
  std::vector<int> threads;
  std::vector<int> max_batch;
  std::vector<int64_t> delay_us;
  std::vector<std::string> preferred;
  std::vector<double> load;
  bool open_loop = false;
  int cores = 1;  // instances x threads never exceed this
};

class SearchSpace {
 public:
  // The grid for `models` (all batching alike, or not at all: the first
  // model's facts decide the batch dimensions).
  static absl::StatusOr<SearchSpace> Build(
      const std::vector<ModelFacts>& models, const SpaceOptions& options);

  const std::vector<std::string>& models() const { return models_; }
  int Size(Dim d) const;
  // Every valid canonical point, in grid order.
  std::vector<Point> AllPoints() const;
  // Valid: inside the grid and instances x threads within the cores.
  bool Valid(const Point& p) const;
  // The point measuring the same thing as `p` that the search uses.
  Point Canonical(const Point& p) const;
  Candidate At(const Point& p) const;
  // The point of the model's own configuration (values not in a list are
  // the nearest ones) at the load nearest `load`.
  Point DefaultPoint(int model_index, double load) const;
  // Index of the value nearest `v` in dimension `d`.
  int Nearest(Dim d, double v) const;
  bool open_loop() const { return open_loop_; }
  int cores() const { return cores_; }
  // "instances 1,2 x threads 1,2 x ..." for the report.
  std::string Describe() const;

 private:
  std::vector<std::string> models_;
  std::vector<ModelFacts> facts_;
  std::vector<int> instances_, threads_, max_batch_;
  std::vector<int64_t> delay_us_;
  std::vector<std::string> preferred_;
  std::vector<double> load_;
  bool open_loop_ = false;
  int cores_ = 1;
};

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_SEARCH_SPACE_H_
