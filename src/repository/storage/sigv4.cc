#include "repository/storage/sigv4.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "repository/storage/crypto.h"

namespace serval {
namespace {

// Lower-cased name -> values joined with ',' (trimmed, inner runs of
// spaces collapsed), sorted by name.
std::map<std::string, std::string> CanonicalHeaders(
    const SignableRequest& request) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string collapsed;
    bool space = false;
    for (char c : absl::StripAsciiWhitespace(value)) {
      const bool is_space = c == ' ' || c == '\t';
      if (is_space && space) continue;
      collapsed.push_back(is_space ? ' ' : c);
      space = is_space;
    }
    std::string& slot = headers[absl::AsciiStrToLower(name)];
    slot = slot.empty() ? collapsed : absl::StrCat(slot, ",", collapsed);
  }
  return headers;
}

}  // namespace

std::string UriEncode(std::string_view text, bool encode_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~' || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string CanonicalQueryString(
    const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [key, value] : query) {
    encoded.emplace_back(UriEncode(key, true), UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::vector<std::string> parts;
  for (const auto& [key, value] : encoded) {
    parts.push_back(absl::StrCat(key, "=", value));
  }
  return absl::StrJoin(parts, "&");
}

std::string SignedHeaders(const SignableRequest& request) {
  std::vector<std::string> names;
  for (const auto& [name, value] : CanonicalHeaders(request)) {
    names.push_back(name);
  }
  return absl::StrJoin(names, ";");
}

std::string CanonicalRequest(const SignableRequest& request) {
  std::string headers;
  for (const auto& [name, value] : CanonicalHeaders(request)) {
    absl::StrAppend(&headers, name, ":", value, "\n");
  }
  // S3 encodes the path once and does not normalize it.
  return absl::StrCat(
      request.method, "\n",
      UriEncode(request.path.empty() ? "/" : request.path, false), "\n",
      CanonicalQueryString(request.query), "\n", headers, "\n",
      SignedHeaders(request), "\n", request.payload_sha256);
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  return absl::StrCat("AWS4-HMAC-SHA256\n", ToAbsl(amz_date), "\n",
                      ToAbsl(scope), "\n", Sha256Hex(canonical_request));
}

std::string Signature(std::string_view secret_access_key, std::string_view date,
                      std::string_view region, std::string_view service,
                      std::string_view string_to_sign) {
  std::string key =
      HmacSha256(absl::StrCat("AWS4", ToAbsl(secret_access_key)), date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  return HexEncode(HmacSha256(key, string_to_sign));
}

std::string AuthorizationHeader(const SignableRequest& request,
                                const AwsCredentials& credentials,
                                std::string_view region,
                                std::string_view service,
                                std::string_view amz_date) {
  const std::string_view date = amz_date.substr(0, 8);
  const std::string scope = absl::StrCat(ToAbsl(date), "/", ToAbsl(region), "/",
                                         ToAbsl(service), "/aws4_request");
  const std::string to_sign =
      StringToSign(amz_date, scope, CanonicalRequest(request));
  return absl::StrCat(
      "AWS4-HMAC-SHA256 Credential=", credentials.access_key_id, "/", scope,
      ", SignedHeaders=", SignedHeaders(request), ", Signature=",
      Signature(credentials.secret_access_key, date, region, service, to_sign));
}

}  // namespace serval
