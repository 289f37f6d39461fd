#include "tools/tune/html_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/tune/svg_chart.h"

namespace serval::tune {
namespace {

constexpr int kTop = 10;  // configurations highlighted in the charts

constexpr char kStyle[] = R"(
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}
.summary{font-size:1.1em;background:#f3f6fa;padding:.8em 1em;border-radius:6px}
.chart{width:100%;max-width:760px;height:auto;display:block;margin:1em 0}
.grid{stroke:#e3e3e3}.limit{stroke:#c00;stroke-dasharray:5 4}
.tick{font-size:11px;fill:#555}.axis{font-size:12px;fill:#333}
.ct{font-size:14px;font-weight:600;fill:#222}.lbl{font-size:10px;fill:#333}
.pt.all{fill:#bbb}.pt.top{fill:#f28e2b}.pt.baseline{fill:#59a14f}
.pt.best{fill:#e15759;stroke:#222;stroke-width:1.5}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f3f3f3;cursor:pointer}td.l{text-align:left}
tr.best td{background:#fde2e2}tr.baseline td{background:#e3f1df}
tr.infeasible td{color:#999}
.key span{display:inline-block;width:10px;height:10px;border-radius:5px;margin:0 4px 0 12px}
)";

// Sorts the table by a clicked column; marks the page rendered so a test
// (and a reader) can tell the script ran to its end.
constexpr char kScript[] = R"(
(function () {
  var table = document.getElementById('trials');
  var heads = table.tHead.rows[0].cells;
  for (var i = 0; i < heads.length; i++) {
    heads[i].addEventListener('click', (function (col) {
      return function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = table.getAttribute('data-col') != col ||
                  table.getAttribute('data-dir') == 'desc';
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-v') || a.cells[col].textContent;
          var y = b.cells[col].getAttribute('data-v') || b.cells[col].textContent;
          var nx = parseFloat(x), ny = parseFloat(y);
          var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        table.setAttribute('data-col', col);
        table.setAttribute('data-dir', asc ? 'asc' : 'desc');
      };
    })(i));
  }
  document.body.setAttribute('data-rendered',
                             String(document.querySelectorAll('svg.chart').length));
})();
)";

std::string Figures(const Trial& t) {
  const TrialFigures& f = t.figures;
  return absl::StrFormat("%.1f req/s, p99 %.2f ms", f.throughput, f.p99_ms);
}

std::string Label(const Trial& t, const ReportInput& in) {
  std::string s = t.candidate.model;
  absl::StrAppend(&s, " ", t.candidate.ConfigLabel(), ", ", in.load_unit, " ",
                  absl::StrFormat("%g", t.candidate.load));
  return s;
}

// Feasible trials by score, best first.
std::vector<int> Ranked(const ReportInput& in) {
  std::vector<int> idx;
  for (size_t i = 0; i < in.trials.size(); ++i) {
    if (in.trials[i].figures.error.empty() && in.trials[i].assessment.feasible)
      idx.push_back(static_cast<int>(i));
  }
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
    return in.trials[a].assessment.score > in.trials[b].assessment.score;
  });
  return idx;
}

std::string PointClass(int i, const ReportInput& in,
                       const std::vector<int>& top) {
  if (i == in.best) return "best";
  if (i == in.baseline) return "baseline";
  if (std::find(top.begin(), top.end(), i) != top.end()) return "top";
  return "all";
}

std::string Td(const std::string& text, double sort_value, bool left = false) {
  return absl::StrFormat("<td%s data-v=\"%g\">%s</td>",
                         left ? " class=\"l\"" : "", sort_value,
                         HtmlEscape(text));
}

std::string TdText(const std::string& text) {
  return absl::StrCat("<td class=\"l\">", HtmlEscape(text), "</td>");
}

}  // namespace

std::string SummarySentence(const ReportInput& in) {
  std::string s = absl::StrFormat("%d trials in %.1f minutes", in.trials.size(),
                                  in.elapsed_s / 60);
  if (in.best < 0) return s + "; no configuration met the constraints.";
  const Trial& best = in.trials[in.best];
  absl::StrAppend(&s, "; the best is ", Label(best, in), " (", Figures(best),
                  ")");
  if (in.baseline >= 0 && in.baseline != in.best &&
      in.trials[in.baseline].assessment.feasible &&
      in.trials[in.baseline].assessment.score > 0) {
    const double gain =
        best.assessment.score / in.trials[in.baseline].assessment.score - 1;
    absl::StrAppendFormat(&s, ", %.0f%% better than the default (%s)",
                          gain * 100, Figures(in.trials[in.baseline]));
  } else if (in.baseline == in.best) {
    absl::StrAppend(&s, ", which is the default configuration");
  } else if (in.baseline >= 0) {
    absl::StrAppend(&s, "; the default configuration met no constraint-",
                    "satisfying load");
  }
  return s + ".";
}

std::string RenderReport(const ReportInput& in) {
  const std::vector<int> ranked = Ranked(in);
  const std::vector<int> top(
      ranked.begin(), ranked.begin() + std::min<size_t>(kTop, ranked.size()));
  std::string h = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>",
      HtmlEscape(in.title), "</title><style>", kStyle,
      "</style></head>\n<body>\n<h1>", HtmlEscape(in.title), "</h1>\n");
  absl::StrAppend(&h, "<p class=\"summary\">", HtmlEscape(SummarySentence(in)),
                  "</p>\n<p>Objective: ", HtmlEscape(in.objective),
                  ". Search: ", HtmlEscape(in.search),
                  ". Space: ", HtmlEscape(in.space), ".</p>\n");
  absl::StrAppend(
      &h,
      "<p class=\"key\">Points:<span style=\"background:#e15759\"></span>best"
      "<span style=\"background:#59a14f\"></span>default configuration"
      "<span style=\"background:#f28e2b\"></span>top ",
      kTop, "<span style=\"background:#bbb\"></span>other trials</p>\n");

  ScatterChart tp{"Throughput vs p99 latency",
                  "p99 latency (ms)",
                  "throughput (req/s)",
                  {},
                  in.p99_budget_ms,
                  in.p99_budget_ms > 0
                      ? absl::StrFormat("budget %g ms", in.p99_budget_ms)
                      : ""};
  ScatterChart mem{"Memory vs p99 latency", "p99 latency (ms)",
                   "server RSS (MB)",       {},
                   in.p99_budget_ms,        ""};
  for (size_t i = 0; i < in.trials.size(); ++i) {
    const Trial& t = in.trials[i];
    if (!t.figures.error.empty() || t.figures.successes == 0) continue;
    const std::string cls = PointClass(static_cast<int>(i), in, top);
    const std::string tip =
        absl::StrCat(Label(t, in), ": ", Figures(t),
                     absl::StrFormat(", RSS %.0f MB", t.figures.rss_mb));
    std::string label;
    auto rank = std::find(top.begin(), top.end(), static_cast<int>(i));
    if (rank != top.end()) label = absl::StrCat("#", rank - top.begin() + 1);
    if (static_cast<int>(i) == in.baseline) label = "default";
    tp.points.push_back(
        {t.figures.p99_ms, t.figures.throughput, cls, label, tip});
    if (t.figures.rss_mb > 0) {
      mem.points.push_back(
          {t.figures.p99_ms, t.figures.rss_mb, cls, label, tip});
    }
  }
  absl::StrAppend(&h, "<h2>Throughput and latency</h2>\n", RenderScatter(tp));
  absl::StrAppend(&h, "<h2>Memory and latency</h2>\n");
  if (mem.points.empty()) {
    absl::StrAppend(&h,
                    "<p>No memory figures (the server's /metrics was not "
                    "reachable).</p>\n");
  } else {
    absl::StrAppend(&h, RenderScatter(mem));
  }

  BarChart bars{
      "Where a request's time goes on the server (top configurations)",
      "ms per request",
      {"queue", "compute input", "compute infer", "compute output",
       "other server"},
      {}};
  std::vector<int> bar_rows = top;
  if (in.baseline >= 0 &&
      std::find(bar_rows.begin(), bar_rows.end(), in.baseline) ==
          bar_rows.end() &&
      in.trials[in.baseline].figures.error.empty()) {
    bar_rows.push_back(in.baseline);
  }
  for (int i : bar_rows) {
    const TrialFigures& f = in.trials[i].figures;
    const double sum = f.queue_us + f.compute_input_us + f.compute_infer_us +
                       f.compute_output_us;
    std::string label =
        absl::StrCat(i == in.baseline ? "default: " : "",
                     in.trials[i].candidate.ConfigLabel(),
                     absl::StrFormat(" @%g", in.trials[i].candidate.load));
    bars.rows.push_back({label,
                         {f.queue_us / 1e3, f.compute_input_us / 1e3,
                          f.compute_infer_us / 1e3, f.compute_output_us / 1e3,
                          std::max(0.0, f.server_request_us - sum) / 1e3}});
  }
  absl::StrAppend(&h, "<h2>Latency breakdown</h2>\n", RenderBars(bars));

  absl::StrAppend(
      &h,
      "<h2>Every trial</h2>\n<p>Click a column to sort.</p>\n"
      "<table id=\"trials\"><thead><tr><th>#</th><th>model</th>"
      "<th>instances</th><th>threads</th><th>max batch</th><th>delay us</th>"
      "<th>preferred</th><th>",
      HtmlEscape(in.load_unit),
      "</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th>"
      "<th>queue us</th><th>infer us</th><th>avg batch</th><th>RSS MB</th>"
      "<th>CPU cores</th><th>errors</th><th>score</th><th>note</th>"
      "</tr></thead><tbody>\n");
  for (size_t i = 0; i < in.trials.size(); ++i) {
    const Trial& t = in.trials[i];
    const Candidate& c = t.candidate;
    const TrialFigures& f = t.figures;
    std::string cls;
    if (static_cast<int>(i) == in.best) {
      cls = "best";
    } else if (static_cast<int>(i) == in.baseline) {
      cls = "baseline";
    } else if (!t.assessment.feasible) {
      cls = "infeasible";
    }
    std::string note = f.error.empty() ? t.assessment.why : f.error;
    if (static_cast<int>(i) == in.best) note = "best";
    if (static_cast<int>(i) == in.baseline) note = "default configuration";
    if (t.resumed) note += note.empty() ? "resumed" : " (resumed)";
    absl::StrAppend(
        &h, "<tr class=\"", cls, "\">", Td(absl::StrCat(i + 1), i + 1),
        TdText(c.model), Td(absl::StrCat(c.instances), c.instances),
        Td(c.threads > 0 ? absl::StrCat(c.threads) : "auto", c.threads),
        Td(absl::StrCat(c.max_batch_size), c.max_batch_size),
        Td(absl::StrCat(c.delay_us), static_cast<double>(c.delay_us)),
        TdText(c.preferred), Td(absl::StrFormat("%g", c.load), c.load));
    absl::StrAppend(
        &h, Td(absl::StrFormat("%.1f", f.throughput), f.throughput),
        Td(absl::StrFormat("%.2f", f.p50_ms), f.p50_ms),
        Td(absl::StrFormat("%.2f", f.p95_ms), f.p95_ms),
        Td(absl::StrFormat("%.2f", f.p99_ms), f.p99_ms),
        Td(absl::StrFormat("%.0f", f.queue_us), f.queue_us),
        Td(absl::StrFormat("%.0f", f.compute_infer_us), f.compute_infer_us),
        Td(absl::StrFormat("%.2f", f.avg_batch), f.avg_batch),
        Td(absl::StrFormat("%.0f", f.rss_mb), f.rss_mb),
        Td(absl::StrFormat("%.2f", f.cpu_cores), f.cpu_cores),
        Td(absl::StrCat(f.errors), static_cast<double>(f.errors)),
        Td(absl::StrFormat("%.3f", t.assessment.score), t.assessment.score),
        TdText(note), "</tr>\n");
  }
  absl::StrAppend(&h, "</tbody></table>\n<script>", kScript,
                  "</script>\n</body></html>\n");
  return h;
}

}  // namespace serval::tune
