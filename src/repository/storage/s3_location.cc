#include "repository/storage/s3_location.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/absl_compat.h"

namespace serval {
namespace {

// S3's rules for bucket names (the path-style subset): 3-63 characters of
// lower-case letters, digits, '.', '-', starting and ending alphanumeric.
bool ValidBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-')) {
      return false;
    }
  }
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  return alnum(b.front()) && alnum(b.back());
}

}  // namespace

bool IsS3Url(std::string_view root) {
  return absl::StartsWith(ToAbsl(root), "s3://");
}

absl::StatusOr<S3Location> ParseS3Location(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("model repository '", ToAbsl(url), "': ", ToAbsl(why),
                     " (expected s3://bucket/prefix or "
                     "s3://http[s]://host:port/bucket/prefix)"));
  };
  absl::string_view rest = ToAbsl(url);
  if (!absl::ConsumePrefix(&rest, "s3://")) return bad("not an s3:// URL");
  S3Location loc;
  bool endpoint = false;
  if (absl::ConsumePrefix(&rest, "https://")) {
    endpoint = true;
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    endpoint = true;
    loc.tls = false;
  } else {
    // Triton's s3://host:port/bucket: the first segment has a port.
    const size_t slash = rest.find('/');
    if (rest.substr(0, slash).find(':') != absl::string_view::npos) {
      endpoint = true;
      loc.tls = false;
    }
  }
  if (endpoint) {
    const size_t slash = rest.find('/');
    absl::string_view hostport = rest.substr(0, slash);
    rest = slash == absl::string_view::npos ? "" : rest.substr(slash + 1);
    const size_t colon = hostport.rfind(':');
    if (colon != absl::string_view::npos) {
      uint32_t port = 0;
      if (!absl::SimpleAtoi(hostport.substr(colon + 1), &port) || port == 0 ||
          port > 65535) {
        return bad("the port is not a number from 1 to 65535");
      }
      loc.port = std::string(hostport.substr(colon + 1));
      hostport = hostport.substr(0, colon);
    } else {
      loc.port = loc.tls ? "443" : "80";
    }
    if (hostport.empty()) return bad("no host");
    loc.host = std::string(hostport);
  } else {
    loc.port = "443";
  }
  const size_t slash = rest.find('/');
  loc.bucket = std::string(rest.substr(0, slash));
  if (loc.bucket.empty()) return bad("no bucket");
  if (!ValidBucket(loc.bucket)) return bad("not a valid bucket name");
  absl::string_view prefix =
      slash == absl::string_view::npos ? "" : rest.substr(slash + 1);
  while (absl::ConsumeSuffix(&prefix, "/")) {
  }
  if (absl::StrContains(prefix, "//")) return bad("an empty path segment");
  const std::string segments = absl::StrCat("/", prefix, "/");
  if (absl::StrContains(segments, "/../") ||
      absl::StrContains(segments, "/./")) {
    return bad("'.' and '..' are not allowed in the prefix");
  }
  loc.prefix = std::string(prefix);
  return loc;
}

std::string S3Location::ToString() const {
  std::string out = "s3://";
  if (custom_endpoint()) {
    absl::StrAppend(&out, tls ? "https://" : "http://", host, ":", port, "/");
  }
  absl::StrAppend(&out, bucket);
  if (!prefix.empty()) absl::StrAppend(&out, "/", prefix);
  return out;
}

}  // namespace serval
