#include "frontend/http/tls_context.h"

#include <openssl/ssl.h>

#include "absl/strings/str_cat.h"

namespace serval::http {

absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(
    const TlsMaterial& material) {
  auto context =
      std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  // TLS 1.0 and 1.1 are deprecated (RFC 8996).
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  context->set_options(asio::ssl::context::default_workarounds |
                       asio::ssl::context::no_compression |
                       asio::ssl::context::single_dh_use);
  // Never a passphrase prompt (LoadTlsMaterial refused encrypted keys).
  context->set_password_callback(
      [](std::size_t, asio::ssl::context::password_purpose) {
        return std::string();
      });
  boost::system::error_code ec;
  context->use_certificate_chain(asio::buffer(material.cert_pem), ec);
  if (!ec) {
    context->use_private_key(asio::buffer(material.key_pem),
                             asio::ssl::context::pem, ec);
  }
  if (!ec && material.verify_client) {
    context->add_certificate_authority(asio::buffer(material.ca_pem), ec);
    if (!ec) {
      context->set_verify_mode(
          asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
    }
    // Session resumption with client verification needs an id context.
    static constexpr unsigned char kSessionContext[] = "serval";
    SSL_CTX_set_session_id_context(native, kSessionContext,
                                   sizeof(kSessionContext) - 1);
  }
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS setup failed: ", ec.message()));
  }
  return context;
}

}  // namespace serval::http
