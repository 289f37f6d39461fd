// The certificate, key and CA files of a TLS listener, read and checked
// together: what the HTTP and gRPC frontends load at start-up and again on
// SIGHUP. A set that does not load (unreadable file, not PEM, key not
// matching the certificate) is refused as a whole, so a reload with bad
// files leaves the previous certificates serving.
#ifndef SERVAL_SECURITY_TLS_FILES_H_
#define SERVAL_SECURITY_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace serval {

struct TlsFiles {
  bool enabled = false;
  std::string cert_file;  // PEM certificate chain, leaf first
  std::string key_file;   // PEM private key
  // PEM CA bundle that client certificates must chain to; required when
  // verify_client is set.
  std::string ca_file;
  // Mutual TLS: a client without a certificate signed by ca_file is
  // refused during the handshake.
  bool verify_client = false;
};

// The contents of a checked TlsFiles set.
struct TlsMaterial {
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;  // empty without client verification
  bool verify_client = false;
  // For logs: the leaf's subject and notAfter.
  std::string summary;
};

// Checks the flag combination (`prefix` names the flags in messages, e.g.
// "--http"): INVALID_ARGUMENT for files given without TLS enabled, or TLS
// without a certificate and key, or mutual TLS without a CA.
absl::Status ValidateTlsFlags(const TlsFiles& files, const std::string& prefix);

// Reads and checks the files. INVALID_ARGUMENT naming the file and what is
// wrong with it.
absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files);

}  // namespace serval

#endif  // SERVAL_SECURITY_TLS_FILES_H_
