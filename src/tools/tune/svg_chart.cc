#include "tools/tune/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace serval::tune {
namespace {

constexpr double kWidth = 640, kHeight = 360;
constexpr double kLeft = 70, kRight = 20, kTop = 36, kBottom = 48;

std::string Tick(double v) { return absl::StrFormat("%g", v); }

// A vertical grid line at x from top to bottom, labelled `v` below.
void AppendXTick(std::string* s, double x, double top, double bottom,
                 double v) {
  absl::StrAppendFormat(
      s,
      "<line class=\"grid\" x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\"/>"
      "<text class=\"tick\" x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%s"
      "</text>\n",
      x, top, x, bottom, x, bottom + 16, Tick(v));
}

// Series colours of the stacked bars, in order.
constexpr const char* kSeriesColours[] = {"#4e79a7", "#f28e2b", "#e15759",
                                          "#76b7b2", "#59a14f", "#edc948"};

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<double> NiceTicks(double lo, double hi, int count) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(1, count);
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> out;
  // From the step at or below lo to the first at or above hi.
  double v = std::floor(lo / step) * step;
  while (true) {
    out.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
    if (v >= hi - step * 1e-9) break;
    v += step;
  }
  return out;
}

std::string RenderScatter(const ScatterChart& c) {
  double xmax = c.x_limit, ymax = 0;
  for (const ScatterPoint& p : c.points) {
    xmax = std::max(xmax, p.x);
    ymax = std::max(ymax, p.y);
  }
  const std::vector<double> xt = NiceTicks(0, xmax > 0 ? xmax * 1.05 : 1, 6);
  const std::vector<double> yt = NiceTicks(0, ymax > 0 ? ymax * 1.05 : 1, 5);
  const double x1 = xt.back(), y1 = yt.back();
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto X = [&](double v) { return kLeft + v / x1 * pw; };
  auto Y = [&](double v) { return kTop + ph - v / y1 * ph; };
  std::string s = absl::StrFormat(
      "<svg class=\"chart scatter\" viewBox=\"0 0 %g %g\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>%s</title>\n",
      kWidth, kHeight, HtmlEscape(c.title));
  absl::StrAppendFormat(&s, "<text class=\"ct\" x=\"%g\" y=\"20\">%s</text>\n",
                        kLeft, HtmlEscape(c.title));
  for (double v : xt) AppendXTick(&s, X(v), kTop, kTop + ph, v);
  for (double v : yt) {
    absl::StrAppendFormat(
        &s,
        "<line class=\"grid\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\"/>"
        "<text class=\"tick\" x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s"
        "</text>\n",
        kLeft, Y(v), kLeft + pw, Y(v), kLeft - 6, Y(v) + 4, Tick(v));
  }
  absl::StrAppendFormat(
      &s,
      "<text class=\"axis\" x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>"
      "<text class=\"axis\" transform=\"translate(16 %g) rotate(-90)\" "
      "text-anchor=\"middle\">%s</text>\n",
      kLeft + pw / 2, kHeight - 8, HtmlEscape(c.x_label), kTop + ph / 2,
      HtmlEscape(c.y_label));
  if (c.x_limit > 0) {
    absl::StrAppendFormat(
        &s,
        "<line class=\"limit\" x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\"/>"
        "<text class=\"tick\" x=\"%.1f\" y=\"%g\">%s</text>\n",
        X(c.x_limit), kTop, X(c.x_limit), kTop + ph, X(c.x_limit) + 4,
        kTop + 12, HtmlEscape(c.x_limit_label));
  }
  // Background points first, so the highlighted ones stay visible.
  std::vector<const ScatterPoint*> order;
  for (const ScatterPoint& p : c.points) order.push_back(&p);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) {
    return (a->css_class == "all") > (b->css_class == "all");
  });
  for (const ScatterPoint* p : order) {
    const double r = p->css_class == "all" ? 3.5 : 5.5;
    absl::StrAppendFormat(
        &s,
        "<circle class=\"pt %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%g\">"
        "<title>%s</title></circle>",
        p->css_class, X(p->x), Y(p->y), r, HtmlEscape(p->tooltip));
    if (!p->label.empty()) {
      absl::StrAppendFormat(&s,
                            "<text class=\"lbl\" x=\"%.1f\" y=\"%.1f\">%s"
                            "</text>",
                            X(p->x) + 7, Y(p->y) - 5, HtmlEscape(p->label));
    }
    s += "\n";
  }
  s += "</svg>\n";
  return s;
}

std::string RenderBars(const BarChart& c) {
  const double row_h = 22, label_w = 260;
  const double height = kTop + c.rows.size() * row_h + kBottom + 24;
  double xmax = 0;
  for (const BarRow& r : c.rows) {
    double sum = 0;
    for (double v : r.parts) sum += std::max(0.0, v);
    xmax = std::max(xmax, sum);
  }
  const std::vector<double> xt = NiceTicks(0, xmax > 0 ? xmax * 1.05 : 1, 6);
  const double x1 = xt.back();
  const double pw = kWidth + 120 - label_w - kRight;
  auto X = [&](double v) { return label_w + v / x1 * pw; };
  std::string s = absl::StrFormat(
      "<svg class=\"chart bars\" viewBox=\"0 0 %g %g\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>%s</title>\n",
      kWidth + 120, height, HtmlEscape(c.title));
  absl::StrAppendFormat(&s, "<text class=\"ct\" x=\"10\" y=\"20\">%s</text>\n",
                        HtmlEscape(c.title));
  const double bottom = kTop + c.rows.size() * row_h;
  for (double v : xt) AppendXTick(&s, X(v), kTop, bottom, v);
  absl::StrAppendFormat(
      &s,
      "<text class=\"axis\" x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s"
      "</text>\n",
      label_w + pw / 2, bottom + 34, HtmlEscape(c.x_label));
  for (size_t i = 0; i < c.rows.size(); ++i) {
    const BarRow& r = c.rows[i];
    const double y = kTop + i * row_h;
    absl::StrAppendFormat(
        &s,
        "<text class=\"tick\" x=\"%g\" y=\"%g\" text-anchor=\"end\">%s"
        "</text>",
        label_w - 6, y + row_h * 0.65, HtmlEscape(r.label));
    double at = 0;
    for (size_t k = 0; k < r.parts.size(); ++k) {
      const double v = std::max(0.0, r.parts[k]);
      const std::string name = k < c.series.size() ? c.series[k] : "";
      absl::StrAppendFormat(
          &s,
          "<rect class=\"bar\" x=\"%.1f\" y=\"%g\" width=\"%.1f\" "
          "height=\"%g\" fill=\"%s\"><title>%s: %s</title></rect>",
          X(at), y + 3, X(at + v) - X(at), row_h - 6,
          kSeriesColours[k % std::size(kSeriesColours)], HtmlEscape(name),
          absl::StrFormat("%.3g", v));
      at += v;
    }
    s += "\n";
  }
  // Legend.
  double lx = 10;
  for (size_t k = 0; k < c.series.size(); ++k) {
    absl::StrAppendFormat(
        &s,
        "<rect x=\"%g\" y=\"%g\" width=\"10\" height=\"10\" fill=\"%s\"/>"
        "<text class=\"tick\" x=\"%g\" y=\"%g\">%s</text>",
        lx, height - 16, kSeriesColours[k % std::size(kSeriesColours)], lx + 14,
        height - 7, HtmlEscape(c.series[k]));
    lx += 20 + 7.0 * c.series[k].size() + 10;
  }
  s += "\n</svg>\n";
  return s;
}

}  // namespace serval::tune
