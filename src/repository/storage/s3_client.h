// The S3 operations a repository needs: ListObjectsV2 (every page) and
// ranged GetObject, signed with SigV4 (unsigned without credentials), over
// kept-alive connections (a small pool, so ranged downloads run in
// parallel). Transient failures (connection errors, timeouts, 5xx,
// throttling) are retried with exponential back-off and jitter; what still
// fails comes back as one clear error that names the bucket and never the
// secret. Thread-safe.
#ifndef SERVAL_REPOSITORY_STORAGE_S3_CLIENT_H_
#define SERVAL_REPOSITORY_STORAGE_S3_CLIENT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "repository/storage/aws_config.h"
#include "repository/storage/http_client.h"
#include "repository/storage/s3_location.h"
#include "repository/storage/s3_xml.h"

namespace serval {

struct S3ClientOptions {
  int max_attempts = 5;
  std::chrono::milliseconds timeout{30000};      // per request
  std::chrono::milliseconds first_backoff{200};  // doubled per attempt, capped
  std::chrono::milliseconds max_backoff{5000};
  std::string ca_file;  // TLS: trust this bundle instead of the system's
  // Injected for tests; the real clock and sleep by default.
  std::function<absl::Time()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
};

class S3Client {
 public:
  S3Client(S3Location location, AwsConfig config, S3ClientOptions options);

  const S3Location& location() const { return location_; }

  // Every object under `prefix` (all pages), in key order.
  absl::StatusOr<std::vector<S3Object>> ListObjects(const std::string& prefix);
  // Where a ranged GET puts its bytes: `position` counts from the start
  // of the range. A retried request writes from position 0 again.
  using RangeWriter =
      std::function<absl::Status(uint64_t position, std::string_view bytes)>;
  // Bytes [offset, offset + length) of an object, handed to `write` as
  // they arrive (no copy of the range is kept in memory).
  absl::Status GetRange(const std::string& key, uint64_t offset,
                        uint64_t length, const RangeWriter& write);

  // What the requests to S3 did so far (for tests and the log).
  struct Counters {
    int64_t requests = 0;
    int64_t retries = 0;
    int64_t bytes_downloaded = 0;
  };
  Counters counters() const;

 private:
  struct Result {
    absl::StatusOr<HttpResponse> response;
    bool retryable = false;
  };
  // Signs and sends one request, retrying transient failures; `what`
  // names the operation for the error text.
  // A successful answer's body goes to `write` when it is given.
  absl::StatusOr<HttpResponse> Call(
      const std::string& key,
      std::vector<std::pair<std::string, std::string>> query,
      std::vector<std::pair<std::string, std::string>> extra_headers,
      size_t body_limit, const std::string& what,
      const RangeWriter* write = nullptr);
  Result Once(const HttpRequest& request, size_t body_limit,
              const RangeWriter* write);
  absl::Status ErrorFor(const HttpResponse& response,
                        const std::string& what) const;
  std::unique_ptr<HttpClientConnection> TakeConnection();
  void ReturnConnection(std::unique_ptr<HttpClientConnection> connection);

  const S3Location location_;
  const AwsConfig config_;
  const S3ClientOptions options_;
  HttpEndpoint endpoint_;
  std::string host_header_;
  bool virtual_hosted_ = false;

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<HttpClientConnection>> idle_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_S3_CLIENT_H_
