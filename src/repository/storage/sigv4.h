// AWS Signature Version 4 (header form), as S3 expects it: the canonical
// request, the string to sign, the derived signing key and the
// Authorization header. Pure functions; the caller supplies the time, so
// the published test vectors can be checked exactly.
#ifndef SERVAL_REPOSITORY_STORAGE_SIGV4_H_
#define SERVAL_REPOSITORY_STORAGE_SIGV4_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace serval {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only
  bool empty() const { return access_key_id.empty(); }
};

struct SignableRequest {
  std::string method;  // "GET"
  std::string path;    // not yet encoded: "/bucket/a b.txt"
  // Not yet encoded; any order.
  std::vector<std::pair<std::string, std::string>> query;
  // Every header to sign (host and x-amz-date at least); any case, any
  // order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256;  // hex; of "" for a GET
};

// RFC 3986 unreserved characters stay, everything else is %XX (upper
// case); '/' stays unless `encode_slash`.
std::string UriEncode(std::string_view text, bool encode_slash);
// The query string as sent and as signed: keys and values encoded, sorted.
std::string CanonicalQueryString(
    const std::vector<std::pair<std::string, std::string>>& query);

std::string CanonicalRequest(const SignableRequest& request);
// "host;x-amz-date": the lower-cased names, sorted, unique.
std::string SignedHeaders(const SignableRequest& request);
std::string StringToSign(
    std::string_view amz_date,  // 20150830T123600Z
    std::string_view scope,     // date/region/svc/aws4_request
    std::string_view canonical_request);
// Hex signature.
std::string Signature(std::string_view secret_access_key,
                      std::string_view date,  // 20150830
                      std::string_view region, std::string_view service,
                      std::string_view string_to_sign);
// The Authorization header's value.
std::string AuthorizationHeader(const SignableRequest& request,
                                const AwsCredentials& credentials,
                                std::string_view region,
                                std::string_view service,
                                std::string_view amz_date);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_SIGV4_H_
