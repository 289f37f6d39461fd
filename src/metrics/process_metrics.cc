#include "metrics/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace serval {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

uint64_t ToU64(std::string_view s, int base = 10) {
  return std::strtoull(std::string(s).c_str(), nullptr, base);
}

double BootTimeSeconds() {
  const std::string stat = ReadFile("/proc/stat");
  const size_t at = stat.find("\nbtime ");
  if (at == std::string::npos) return 0;
  return static_cast<double>(ToU64(std::string_view(stat).substr(at + 7)));
}

}  // namespace

std::optional<ProcessStats> ParseProcStat(std::string_view stat,
                                          long ticks_per_second, long page_size,
                                          double boot_time_s) {
  // The command name (field 2) may hold spaces and parentheses: fields
  // are counted from the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) {
    return std::nullopt;
  }
  const auto f = Words(stat.substr(close + 1));
  // f[0] is field 3 (state); field n is f[n - 3].
  if (f.size() < 22) return std::nullopt;
  ProcessStats p;
  const double ticks = static_cast<double>(ticks_per_second);
  p.cpu_seconds = static_cast<double>(ToU64(f[11]) + ToU64(f[12])) / ticks;
  p.start_time_seconds =
      boot_time_s + static_cast<double>(ToU64(f[19])) / ticks;
  p.virtual_bytes = ToU64(f[20]);
  p.resident_bytes = ToU64(f[21]) * static_cast<uint64_t>(page_size);
  return p;
}

uint64_t CountEstablished(std::string_view text, uint16_t port) {
  uint64_t count = 0;
  size_t pos = text.find('\n');  // skip the header
  while (pos != std::string_view::npos && pos + 1 < text.size()) {
    const size_t end = text.find('\n', pos + 1);
    const auto line = text.substr(pos + 1, end == std::string_view::npos
                                               ? std::string_view::npos
                                               : end - pos - 1);
    pos = end;
    const auto w = Words(line);
    // sl local_address rem_address st ...; addresses are HEXIP:HEXPORT.
    if (w.size() < 4 || w[3] != "01") continue;  // 01 = ESTABLISHED
    const size_t colon = w[1].rfind(':');
    if (colon == std::string_view::npos) continue;
    if (ToU64(w[1].substr(colon + 1), 16) == port) ++count;
  }
  return count;
}

std::optional<ProcessStats> ReadProcessStats() {
  auto p = ParseProcStat(ReadFile("/proc/self/stat"), sysconf(_SC_CLK_TCK),
                         sysconf(_SC_PAGESIZE), BootTimeSeconds());
  if (!p) return p;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++p->open_fds;
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) p->max_fds = limit.rlim_cur;
  return p;
}

uint64_t OpenConnections(uint16_t port) {
  return CountEstablished(ReadFile("/proc/self/net/tcp"), port) +
         CountEstablished(ReadFile("/proc/self/net/tcp6"), port);
}

}  // namespace serval
