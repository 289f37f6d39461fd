// Process-level figures read from /proc at scrape time (nothing is recorded
// on the request path): CPU time, memory, file descriptors, start time, and
// the TCP connections accepted on given local ports. Free functions;
// thread-safe. The parsers take the file text so they are unit-tested on
// fixed input.
#ifndef SERVAL_METRICS_PROCESS_METRICS_H_
#define SERVAL_METRICS_PROCESS_METRICS_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace serval {

struct ProcessStats {
  double cpu_seconds = 0;  // user + system
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;
};

// Fields of /proc/self/stat text. `ticks_per_second` and `page_size` as
// sysconf reports them; `boot_time_s` is btime from /proc/stat.
std::optional<ProcessStats> ParseProcStat(std::string_view stat,
                                          long ticks_per_second, long page_size,
                                          double boot_time_s);

// Connections in state ESTABLISHED whose local port is `port`, from the
// text of /proc/net/tcp or /proc/net/tcp6.
uint64_t CountEstablished(std::string_view proc_net_tcp, uint16_t port);

// Everything above for this process; nullopt when /proc is unreadable.
std::optional<ProcessStats> ReadProcessStats();
// Accepted connections of this process's listener on `port` (IPv4 + IPv6).
uint64_t OpenConnections(uint16_t port);

}  // namespace serval

#endif  // SERVAL_METRICS_PROCESS_METRICS_H_
