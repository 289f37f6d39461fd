// KServe v2 over HTTP/1.1 for `serval perf`: an asynchronous Boost.Beast
// client on a small pool of io threads (the load generator shares the
// machine with the server, so it must not take a thread per connection).
// Keep-alive connections are opened on demand up to max_connections and
// reused; further requests wait client-side for a free connection, their
// latency still counted from when they were issued.
#ifndef SERVAL_TOOLS_PERF_HTTP_TRANSPORT_H_
#define SERVAL_TOOLS_PERF_HTTP_TRANSPORT_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "tools/perf/transport.h"

namespace serval::perf {

absl::StatusOr<std::unique_ptr<Transport>> CreateHttpTransport(
    const TargetOptions& options);

// One blocking GET on a fresh connection: (HTTP status, body).
absl::StatusOr<std::pair<int, std::string>> HttpGet(const std::string& host,
                                                    int port,
                                                    const std::string& target);

// One blocking request with a JSON body (none for GET) on a fresh
// connection, given `timeout_s` in all: (HTTP status, body).
absl::StatusOr<std::pair<int, std::string>> HttpCall(
    const std::string& host, int port, const std::string& method,
    const std::string& target, const std::string& body, int timeout_s);

}  // namespace serval::perf

#endif  // SERVAL_TOOLS_PERF_HTTP_TRANSPORT_H_
