// Secrets given to `serval serve`: read from a file when the flag says
// @PATH (so they stay out of the process list), and compared in constant
// time.
#ifndef SERVAL_SECURITY_SECRET_H_
#define SERVAL_SECURITY_SECRET_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace serval {

// `value` itself, or the contents of PATH when it is "@PATH" (trailing
// newlines and spaces removed). INVALID_ARGUMENT when the file cannot be
// read or the secret is empty; `what` names the flag in the message.
absl::StatusOr<std::string> ResolveSecret(std::string_view value,
                                          std::string_view what);

// True when a == b. The time taken depends on neither content nor on the
// length of `a` (both sides are hashed first, then the digests compared
// with CRYPTO_memcmp), so a client cannot learn the secret byte by byte
// or its length from response times.
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace serval

#endif  // SERVAL_SECURITY_SECRET_H_
