#include "metrics/metrics_options.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_compat.h"

namespace serval {

std::vector<double> MetricsOptions::DefaultLatencyBuckets() {
  // 100 us to 10 s in 1-2.5-5 steps: fine enough for a fast CPU model at
  // the low end and for a queue that backs up at the high end.
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::vector<double> MetricsOptions::DefaultBatchSizeBuckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
}

absl::StatusOr<std::vector<double>> ParseBuckets(std::string_view text) {
  std::vector<double> out;
  for (absl::string_view piece : absl::StrSplit(ToAbsl(text), ',')) {
    const std::string item(piece.data(), piece.size());
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() ||
        !std::isfinite(v) || v <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bucket bound '", item, "' is not a positive finite number"));
    }
    if (!out.empty() && v <= out.back()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bucket bounds must be strictly ascending: ", item,
                       " follows ", out.back()));
    }
    out.push_back(v);
  }
  if (out.empty()) return absl::InvalidArgumentError("no bucket bounds given");
  return out;
}

}  // namespace serval
