// The digests S3 needs, over OpenSSL's EVP interface: SHA-256 and
// HMAC-SHA256 for request signing, MD5 to check a download against its ETag.
#ifndef SERVAL_REPOSITORY_STORAGE_CRYPTO_H_
#define SERVAL_REPOSITORY_STORAGE_CRYPTO_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace serval {

std::string HexEncode(std::string_view bytes);  // lower case
std::string Sha256Hex(std::string_view data);
// Raw 32-byte MAC.
std::string HmacSha256(std::string_view key, std::string_view data);
// MD5 of a file's contents, hex.
absl::StatusOr<std::string> Md5FileHex(const std::string& path);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_CRYPTO_H_
