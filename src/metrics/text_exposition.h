// TextExposition: writes metric families in the Prometheus text exposition
// format, version 0.0.4 (content type kExpositionContentType). A family is
// opened with Family() and its samples follow; every sample of a family
// must be written before the next family starts, as the format requires.
// Label values and HELP text are escaped here. Not thread-safe.
#ifndef SERVAL_METRICS_TEXT_EXPOSITION_H_
#define SERVAL_METRICS_TEXT_EXPOSITION_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/histogram.h"

namespace serval {

inline constexpr char kExpositionContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class TextExposition {
 public:
  void Family(std::string_view name, std::string_view help, MetricType type);
  // One sample `name{labels} value` (name includes any _bucket/_sum suffix).
  void Sample(std::string_view name, const Labels& labels, double value);
  // The _bucket (with le), _sum and _count samples of one histogram.
  void HistogramSamples(std::string_view name, const Labels& labels,
                        const HistogramSnapshot& h);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void WriteLabels(const Labels& labels, std::string_view le);
  std::string out_;
};

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);
// Escapes HELP text: backslash and newline.
std::string EscapeHelp(std::string_view help);
// Shortest round-trip text of a sample value; +Inf, -Inf, NaN as Prometheus
// spells them.
std::string FormatValue(double value);

}  // namespace serval

#endif  // SERVAL_METRICS_TEXT_EXPOSITION_H_
