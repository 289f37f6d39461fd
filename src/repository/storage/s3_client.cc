#include "repository/storage/s3_client.h"

#include <algorithm>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "repository/storage/crypto.h"
#include "repository/storage/sigv4.h"
#include "spdlog/spdlog.h"

namespace serval {
namespace {

constexpr size_t kListBodyLimit = 16 << 20;
const char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool RetryableStatus(int status) { return status == 429 || status >= 500; }

}  // namespace

S3Client::S3Client(S3Location location, AwsConfig config,
                   S3ClientOptions options)
    : location_(std::move(location)),
      config_(std::move(config)),
      options_(std::move(options)) {
  endpoint_.tls = location_.tls;
  endpoint_.ca_file = options_.ca_file;
  if (location_.custom_endpoint()) {
    endpoint_.host = location_.host;
    endpoint_.port = location_.port;
    host_header_ = (location_.port == "80" && !location_.tls) ||
                           (location_.port == "443" && location_.tls)
                       ? location_.host
                       : absl::StrCat(location_.host, ":", location_.port);
  } else {
    // AWS: virtual-hosted style where the bucket name allows it (no dots,
    // which would break the certificate's wildcard).
    virtual_hosted_ = !absl::StrContains(location_.bucket, ".");
    endpoint_.host = absl::StrCat(virtual_hosted_ ? location_.bucket + "." : "",
                                  "s3.", config_.region, ".amazonaws.com");
    endpoint_.port = "443";
    host_header_ = endpoint_.host;
  }
}

S3Client::Counters S3Client::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

std::unique_ptr<HttpClientConnection> S3Client::TakeConnection() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return std::make_unique<HttpClientConnection>(endpoint_, options_.timeout);
}

void S3Client::ReturnConnection(std::unique_ptr<HttpClientConnection> c) {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < 16) idle_.push_back(std::move(c));
}

S3Client::Result S3Client::Once(const HttpRequest& request, size_t body_limit,
                                const RangeWriter* write) {
  auto connection = TakeConnection();
  uint64_t position = 0;  // each attempt writes its range from the start
  const BodySink sink = [&](std::string_view chunk) {
    absl::Status s = (*write)(position, chunk);
    position += chunk.size();
    return s;
  };
  absl::StatusOr<HttpResponse> response =
      connection->Send(request, body_limit, write ? &sink : nullptr);
  ReturnConnection(std::move(connection));
  {
    absl::MutexLock lock(&mu_);
    ++counters_.requests;
    if (response.ok()) counters_.bytes_downloaded += response->body_bytes;
  }
  if (!response.ok()) {
    const bool transient = absl::IsUnavailable(response.status()) ||
                           absl::IsDeadlineExceeded(response.status());
    return {response.status(), transient};
  }
  return {std::move(response), RetryableStatus(response->status)};
}

absl::Status S3Client::ErrorFor(const HttpResponse& response,
                                const std::string& what) const {
  const S3Error error = ParseS3Error(response.body);
  const std::string detail =
      error.code.empty()
          ? absl::StrCat("HTTP ", response.status)
          : absl::StrCat("HTTP ", response.status, " ", error.code,
                         error.message.empty() ? "" : ": ", error.message);
  const std::string text =
      absl::StrCat(what, " in ", location_.ToString(), ": ", detail);
  if (response.status == 403 || response.status == 401) {
    return absl::PermissionDeniedError(absl::StrCat(
        text, " (credentials from ", config_.credentials_source,
        config_.credentials.empty() ? "; requests are unsigned" : "",
        ", region ", config_.region, ")"));
  }
  if (response.status == 404) return absl::NotFoundError(text);
  if (RetryableStatus(response.status)) return absl::UnavailableError(text);
  return absl::FailedPreconditionError(text);
}

absl::StatusOr<HttpResponse> S3Client::Call(
    const std::string& key,
    std::vector<std::pair<std::string, std::string>> query,
    std::vector<std::pair<std::string, std::string>> extra_headers,
    size_t body_limit, const std::string& what, const RangeWriter* write) {
  const std::string path = virtual_hosted_
                               ? absl::StrCat("/", key)
                               : absl::StrCat("/", location_.bucket, "/", key);
  std::chrono::milliseconds backoff = options_.first_backoff;
  std::mt19937 jitter(std::random_device{}());
  absl::Status last;
  int attempt = 1;
  for (; attempt <= options_.max_attempts; ++attempt) {
    const absl::Time now = options_.now ? options_.now() : absl::Now();
    const std::string amz_date =
        absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone());
    SignableRequest sign;
    sign.method = "GET";
    sign.path = path;
    sign.query = query;
    sign.payload_sha256 = kEmptySha256;
    sign.headers = {{"host", host_header_},
                    {"x-amz-date", amz_date},
                    {"x-amz-content-sha256", kEmptySha256}};
    if (!config_.credentials.session_token.empty()) {
      sign.headers.emplace_back("x-amz-security-token",
                                config_.credentials.session_token);
    }
    for (const auto& h : extra_headers) sign.headers.push_back(h);
    HttpRequest request;
    request.method = "GET";
    const std::string q = CanonicalQueryString(query);
    request.target = UriEncode(path, false) + (q.empty() ? "" : "?" + q);
    request.headers = sign.headers;
    if (!config_.credentials.empty()) {
      request.headers.emplace_back(
          "authorization", AuthorizationHeader(sign, config_.credentials,
                                               config_.region, "s3", amz_date));
    }
    Result result = Once(request, body_limit, write);
    if (result.response.ok() && !result.retryable) {
      if (result.response->status / 100 == 2) return result.response;
      return ErrorFor(*result.response, what);
    }
    last = result.response.ok()
               ? ErrorFor(*result.response, what)
               : absl::Status(
                     result.response.status().code(),
                     absl::StrCat(what, " in ", location_.ToString(), ": ",
                                  result.response.status().message()));
    if (!result.retryable || attempt == options_.max_attempts) break;
    {
      absl::MutexLock lock(&mu_);
      ++counters_.retries;
    }
    // Full jitter: a random wait up to the doubled back-off, so many
    // downloaders do not retry in step.
    const auto wait =
        std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(
            backoff.count() / 2, backoff.count())(jitter));
    spdlog::warn("{} (attempt {} of {}); retrying in {} ms",
                 std::string(last.message()), attempt, options_.max_attempts,
                 wait.count());
    if (options_.sleep) {
      options_.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  // Only a transient failure is tried again; say so when it was.
  if (attempt > 1) {
    return absl::Status(
        last.code(), absl::StrCat(last.message(), " (gave up after ", attempt,
                                  " attempts)"));
  }
  return last;
}

absl::StatusOr<std::vector<S3Object>> S3Client::ListObjects(
    const std::string& prefix) {
  std::vector<S3Object> objects;
  std::string token;
  for (;;) {
    std::vector<std::pair<std::string, std::string>> query = {
        {"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    absl::StatusOr<HttpResponse> response =
        Call("", query, {}, kListBodyLimit, "listing the objects");
    if (!response.ok()) return response.status();
    absl::StatusOr<S3ListPage> page = ParseListObjectsV2(response->body);
    if (!page.ok()) {
      return absl::Status(
          page.status().code(),
          absl::StrCat("listing the objects in ", location_.ToString(), ": ",
                       page.status().message()));
    }
    for (auto& o : page->objects) objects.push_back(std::move(o));
    if (!page->truncated) break;
    token = page->next_continuation_token;
  }
  std::sort(objects.begin(), objects.end(),
            [](const S3Object& a, const S3Object& b) { return a.key < b.key; });
  return objects;
}

absl::Status S3Client::GetRange(const std::string& key, uint64_t offset,
                                uint64_t length, const RangeWriter& write) {
  const std::string what = absl::StrCat("downloading '", key, "'");
  if (length == 0) return absl::OkStatus();
  absl::StatusOr<HttpResponse> response = Call(
      key, {},
      {{"range", absl::StrCat("bytes=", offset, "-", offset + length - 1)}},
      length + 1, what, &write);
  if (!response.ok()) return response.status();
  // 200 is the whole object: a server that ignores Range.
  const bool whole = response->status == 200 && offset == 0;
  if ((response->status != 206 && !whole) || response->body_bytes != length) {
    return absl::DataLossError(absl::StrCat(
        what, " from ", location_.ToString(), ": asked for ", length,
        " bytes at ", offset, ", got ", response->body_bytes, " (HTTP ",
        response->status, "); the object changed or the server is broken"));
  }
  return absl::OkStatus();
}

}  // namespace serval
