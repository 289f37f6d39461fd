// The TLS flags of one listener, named the way Triton names gRPC's
// (<prefix>-use-ssl, -server-cert, -server-key, -root-cert,
// -use-ssl-mutual), so that ValidateTlsFlags' messages name real flags.
#ifndef SERVAL_SECURITY_TLS_FLAGS_H_
#define SERVAL_SECURITY_TLS_FLAGS_H_

#include <string>

#include "security/tls_files.h"

namespace CLI {
class App;
}

namespace serval {

// `prefix` is "--http" or "--grpc"; `listener` says what serves TLS in the
// help ("HTTPS instead of plain HTTP on --http-port"). `files` must outlive
// the parse.
void AddTlsFlags(CLI::App* app, const std::string& prefix,
                 const std::string& listener, TlsFiles* files);

}  // namespace serval

#endif  // SERVAL_SECURITY_TLS_FLAGS_H_
