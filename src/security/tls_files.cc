#include "security/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace serval {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// OpenSSL's queued errors as text (the queue is cleared).
std::string OpenSslErrors() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "no PEM data found" : text;
}

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  if (!in || !(contents << in.rdbuf())) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the TLS ", what, " file '", path, "'"));
  }
  return contents.str();
}

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

int NoPassphrase(char*, int, int, void*) { return 0; }

// How many PEM certificates `pem` holds, all of which must parse: a
// truncated chain or bundle (a file half written when SIGHUP came) is an
// error, not a shorter list.
absl::StatusOr<int> CountCertificates(const std::string& pem,
                                      const std::string& what,
                                      const std::string& path) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(pem);
  int count = 0;
  while (X509Ptr cert{
      PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)}) {
    ++count;
  }
  const unsigned long last = ERR_peek_last_error();
  const bool clean_end = ERR_GET_LIB(last) == ERR_LIB_PEM &&
                         ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  if (count == 0 || !clean_end) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS ", what, " file '", path, "' ",
                     count == 0 ? "holds no PEM certificate: "
                                : "holds a certificate that does not parse: ",
                     OpenSslErrors()));
  }
  ERR_clear_error();
  return count;
}

std::string Describe(X509* cert) {
  char subject[256] = "";
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
  BioPtr out(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(out.get(), X509_get0_notAfter(cert));
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return absl::StrCat(subject, ", valid until ", std::string(data, n));
}

}  // namespace

absl::Status ValidateTlsFlags(const TlsFiles& files,
                              const std::string& prefix) {
  if (!files.enabled) {
    if (!files.cert_file.empty() || !files.key_file.empty() ||
        !files.ca_file.empty() || files.verify_client) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix,
                       "-server-cert/-server-key/-root-cert/-use-ssl-mutual "
                       "given without ",
                       prefix, "-use-ssl=true"));
    }
    return absl::OkStatus();
  }
  if (files.cert_file.empty() || files.key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "-use-ssl needs ",
                                                   prefix, "-server-cert and ",
                                                   prefix, "-server-key"));
  }
  if (!files.ca_file.empty() && !files.verify_client) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "-root-cert is read only with ", prefix,
        "-use-ssl-mutual=true (it is the CA of client certificates)"));
  }
  if (files.verify_client && files.ca_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "-use-ssl-mutual needs ", prefix,
                     "-root-cert (the CA that signs client certificates)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files) {
  TlsMaterial m;
  m.verify_client = files.verify_client;
  auto cert = ReadFile(files.cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(files.key_file, "key");
  if (!key.ok()) return key.status();
  m.cert_pem = *std::move(cert);
  m.key_pem = *std::move(key);
  auto chain = CountCertificates(m.cert_pem, "certificate", files.cert_file);
  if (!chain.ok()) return chain.status();
  BioPtr cert_bio = MemoryBio(m.cert_pem);
  X509Ptr leaf(
      PEM_read_bio_X509(cert_bio.get(), nullptr, NoPassphrase, nullptr));
  BioPtr key_bio = MemoryBio(m.key_pem);
  // A callback that gives no passphrase: OpenSSL's default would prompt on
  // the terminal and hang start-up or a SIGHUP reload.
  PkeyPtr pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS key file '", files.key_file,
        "' holds no unencrypted PEM private key: ", OpenSslErrors()));
  }
  if (X509_check_private_key(leaf.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS key file '", files.key_file,
        "' does not match the certificate in '", files.cert_file, "'"));
  }
  m.summary = Describe(leaf.get());
  if (!files.ca_file.empty()) {
    auto ca = ReadFile(files.ca_file, "CA");
    if (!ca.ok()) return ca.status();
    m.ca_pem = *std::move(ca);
    auto bundle = CountCertificates(m.ca_pem, "CA", files.ca_file);
    if (!bundle.ok()) return bundle.status();
  }
  ERR_clear_error();
  return m;
}

}  // namespace serval
