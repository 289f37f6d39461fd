#include "metrics/text_exposition.h"

#include <charconv>
#include <cmath>

namespace serval {
namespace {

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers (counters, byte counts) print without an exponent as long
  // as they are exact in a double.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(value));
  }
  // Shortest round-trip digits; plain decimals ("0.0001", as bucket bounds
  // are usually written) unless the magnitude makes them long.
  char buf[64];
  const double magnitude = std::fabs(value);
  const auto format = magnitude >= 1e-6 && magnitude < 1e15
                          ? std::chars_format::fixed
                          : std::chars_format::general;
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, format);
  if (ec != std::errc()) return std::to_string(value);
  return std::string(buf, end);
}

void TextExposition::Family(std::string_view name, std::string_view help,
                            MetricType type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += EscapeHelp(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += TypeName(type);
  out_ += '\n';
}

void TextExposition::WriteLabels(const Labels& labels, std::string_view le) {
  if (labels.empty() && le.empty()) return;
  out_ += '{';
  bool first = true;
  auto write = [&](std::string_view key, std::string_view value) {
    if (!first) out_ += ',';
    first = false;
    out_ += key;
    out_ += "=\"";
    out_ += EscapeLabelValue(value);
    out_ += '"';
  };
  for (const auto& [key, value] : labels) write(key, value);
  if (!le.empty()) write("le", le);
  out_ += '}';
}

void TextExposition::Sample(std::string_view name, const Labels& labels,
                            double value) {
  out_ += name;
  WriteLabels(labels, {});
  out_ += ' ';
  out_ += FormatValue(value);
  out_ += '\n';
}

void TextExposition::HistogramSamples(std::string_view name,
                                      const Labels& labels,
                                      const HistogramSnapshot& h) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    const std::string le = i < h.upper_bounds.size()
                               ? FormatValue(h.upper_bounds[i])
                               : std::string("+Inf");
    out_ += bucket;
    WriteLabels(labels, le);
    out_ += ' ';
    out_ += FormatValue(static_cast<double>(h.cumulative[i]));
    out_ += '\n';
  }
  Sample(std::string(name) + "_sum", labels, h.sum);
  Sample(std::string(name) + "_count", labels, static_cast<double>(h.count()));
}

}  // namespace serval
