// The TLS side of the HTTP frontend: an Asio SSL context built from
// checked certificate files (TLS 1.2 or later, optional client
// certificate verification).
#ifndef SERVAL_FRONTEND_HTTP_TLS_CONTEXT_H_
#define SERVAL_FRONTEND_HTTP_TLS_CONTEXT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "frontend/http/asio.h"
#include "security/tls_files.h"

namespace serval::http {

// A server context for `material`. INVALID_ARGUMENT when OpenSSL refuses
// what LoadTlsMaterial accepted (it should not).
absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(
    const TlsMaterial& material);

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_TLS_CONTEXT_H_
