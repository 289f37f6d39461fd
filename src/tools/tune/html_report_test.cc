#include "tools/tune/html_report.h"

#include <gtest/gtest.h>

#include "tools/tune/svg_chart.h"

namespace serval::tune {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

ReportInput Input() {
  ReportInput in;
  in.title = "serval tune: <m>";
  in.load_unit = "concurrency";
  in.elapsed_s = 150;
  in.p99_budget_ms = 50;
  for (int i = 0; i < 4; ++i) {
    Trial t;
    t.candidate.model = "m<script>";
    t.candidate.instances = 1 + i % 2;
    t.candidate.max_batch_size = 4 << i;
    t.candidate.load = 8;
    t.figures.throughput = 100 + 20 * i;
    t.figures.p99_ms = 10 + i;
    t.figures.successes = 100;
    t.figures.rss_mb = 200 + i;
    t.figures.queue_us = 500;
    t.figures.compute_infer_us = 3000;
    t.figures.server_request_us = 4000;
    t.assessment.feasible = true;
    t.assessment.score = t.figures.throughput / 100;
    in.trials.push_back(t);
  }
  in.trials[2].figures.error = "load failed";
  in.trials[2].assessment.feasible = false;
  in.baseline = 0;
  in.best = 3;
  return in;
}

TEST(HtmlReportTest, SummarySaysHowMuchBetterThanTheDefault) {
  const std::string s = SummarySentence(Input());
  EXPECT_NE(s.find("4 trials in 2.5 minutes"), std::string::npos) << s;
  EXPECT_NE(s.find("60% better than the default"), std::string::npos) << s;
}

TEST(HtmlReportTest, HasChartsATableAndNoExternalResource) {
  const std::string h = RenderReport(Input());
  EXPECT_EQ(Count(h, "<svg class=\"chart"), 3);
  // Three served trials on each scatter; the failed one is in the table.
  EXPECT_EQ(Count(h, "<circle class=\"pt"), 6);
  EXPECT_EQ(Count(h, "<circle class=\"pt best\""), 2);
  EXPECT_EQ(Count(h, "<tr class="), 4);
  EXPECT_NE(h.find("load failed"), std::string::npos);
  EXPECT_NE(h.find("budget 50 ms"), std::string::npos);
  // Names are escaped, and nothing is fetched.
  EXPECT_EQ(h.find("m<script>"), std::string::npos);
  EXPECT_NE(h.find("m&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(h.find("src="), std::string::npos);
  EXPECT_EQ(h.find("href="), std::string::npos);
}

TEST(HtmlReportTest, NoFeasibleTrialIsSaid) {
  ReportInput in = Input();
  in.best = -1;
  EXPECT_NE(SummarySentence(in).find("no configuration met the constraints"),
            std::string::npos);
  EXPECT_NE(RenderReport(in).find("<table"), std::string::npos);
}

TEST(SvgChartTest, TicksAreRoundNumbersCoveringTheRange) {
  std::vector<double> t = NiceTicks(0, 97, 5);
  EXPECT_EQ(t.front(), 0);
  EXPECT_GE(t.back(), 97);
  EXPECT_EQ(t[1], 20);
}

}  // namespace
}  // namespace serval::tune
