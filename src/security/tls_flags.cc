#include "security/tls_flags.h"

#include "CLI/CLI.hpp"

namespace serval {

void AddTlsFlags(CLI::App* app, const std::string& prefix,
                 const std::string& listener, TlsFiles* files) {
  app->add_option(prefix + "-use-ssl", files->enabled,
                  "Serve " + listener + " (TLS 1.2 or later); needs " + prefix +
                      "-server-cert and " + prefix +
                      "-server-key. SIGHUP reloads the files")
      ->capture_default_str();
  app->add_option(prefix + "-server-cert", files->cert_file,
                  "PEM certificate chain (leaf first)");
  app->add_option(prefix + "-server-key", files->key_file,
                  "PEM private key of " + prefix +
                      "-server-cert (unencrypted; readable by serval only)");
  app->add_option(prefix + "-root-cert", files->ca_file,
                  "PEM CA bundle that client certificates must chain to "
                  "(with " +
                      prefix + "-use-ssl-mutual)");
  app->add_option(prefix + "-use-ssl-mutual", files->verify_client,
                  "Mutual TLS: refuse clients without a certificate signed "
                  "by " +
                      prefix + "-root-cert")
      ->capture_default_str();
}

}  // namespace serval
