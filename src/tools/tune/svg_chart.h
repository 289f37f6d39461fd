// Small inline-SVG charts for the tune report: a scatter plot and
// horizontal stacked bars, with axes, ticks and tooltips (<title>), and no
// script or external resource, so the report opens offline. Pure
// functions.
#ifndef SERVAL_TOOLS_TUNE_SVG_CHART_H_
#define SERVAL_TOOLS_TUNE_SVG_CHART_H_

#include <string>
#include <vector>

namespace serval::tune {

// Escapes text for HTML and SVG.
std::string HtmlEscape(const std::string& text);

struct ScatterPoint {
  double x = 0, y = 0;
  std::string css_class;  // "all", "top", "baseline", "best"
  std::string label;      // drawn beside the point when not empty
  std::string tooltip;
};

struct ScatterChart {
  std::string title;
  std::string x_label, y_label;
  std::vector<ScatterPoint> points;
  double x_limit = 0;  // > 0: a dashed vertical line (a budget)
  std::string x_limit_label;
};

std::string RenderScatter(const ScatterChart& chart);

struct BarRow {
  std::string label;
  std::vector<double> parts;  // one per series, stacked left to right
};

struct BarChart {
  std::string title;
  std::string x_label;
  std::vector<std::string> series;  // names, in the order of parts
  std::vector<BarRow> rows;
};

std::string RenderBars(const BarChart& chart);

// "Nice" tick values covering [lo, hi]: about `count` of 1, 2 or 5 x 10^k.
std::vector<double> NiceTicks(double lo, double hi, int count);

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_SVG_CHART_H_
