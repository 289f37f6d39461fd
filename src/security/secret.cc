#include "security/secret.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace serval {

absl::StatusOr<std::string> ResolveSecret(std::string_view value,
                                          std::string_view what) {
  std::string secret(value);
  if (!value.empty() && value.front() == '@') {
    const std::string path(value.substr(1));
    std::ifstream in(path, std::ios::binary);
    std::ostringstream contents;
    if (!in || !(contents << in.rdbuf())) {
      return absl::InvalidArgumentError(absl::StrCat(
          ToAbsl(what), ": cannot read the secret file '", path, "'"));
    }
    secret = contents.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                               secret.back() == ' ' || secret.back() == '\t')) {
      secret.pop_back();
    }
  }
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what), ": the secret is empty"));
  }
  return secret;
}

bool SecretEquals(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH];
  unsigned char db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}

}  // namespace serval
