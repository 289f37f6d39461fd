#include "security/tls_files.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::testing::HasSubstr;

// A self-signed P-256 certificate and its key, written as PEM files.
struct KeyPair {
  std::string cert_path;
  std::string key_path;
};

KeyPair MakeSelfSigned(const std::string& name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(
      subject, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, subject);
  X509_sign(cert, key, EVP_sha256());
  KeyPair pair{::testing::TempDir() + "/" + name + ".crt",
               ::testing::TempDir() + "/" + name + ".key"};
  FILE* f = fopen(pair.cert_path.c_str(), "w");
  PEM_write_X509(f, cert);
  fclose(f);
  f = fopen(pair.key_path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
  return pair;
}

TEST(TlsFilesTest, LoadsAMatchingPair) {
  KeyPair a = MakeSelfSigned("tls-a");
  TlsFiles files{true, a.cert_path, a.key_path, a.cert_path, true};
  auto m = LoadTlsMaterial(files);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(m->cert_pem, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_THAT(m->key_pem, HasSubstr("PRIVATE KEY"));
  EXPECT_THAT(m->summary, HasSubstr("CN=tls-a"));
  EXPECT_TRUE(m->verify_client);
}

TEST(TlsFilesTest, RefusesAKeyOfAnotherCertificate) {
  KeyPair a = MakeSelfSigned("tls-b");
  KeyPair b = MakeSelfSigned("tls-c");
  auto m = LoadTlsMaterial({true, a.cert_path, b.key_path, "", false});
  EXPECT_THAT(m.status().message(), HasSubstr("does not match"));
}

TEST(TlsFilesTest, RefusesMissingAndNonPemFiles) {
  KeyPair a = MakeSelfSigned("tls-d");
  auto missing =
      LoadTlsMaterial({true, "/nonexistent.crt", a.key_path, "", false});
  EXPECT_THAT(missing.status().message(), HasSubstr("cannot read"));
  const std::string junk = ::testing::TempDir() + "/junk.pem";
  std::ofstream(junk) << "not a certificate\n";
  auto not_pem = LoadTlsMaterial({true, junk, a.key_path, "", false});
  EXPECT_THAT(not_pem.status().message(),
              HasSubstr("holds no PEM certificate"));
  auto bad_key = LoadTlsMaterial({true, a.cert_path, junk, "", false});
  EXPECT_THAT(bad_key.status().message(),
              HasSubstr("no unencrypted PEM private key"));
  auto bad_ca = LoadTlsMaterial({true, a.cert_path, a.key_path, junk, true});
  EXPECT_THAT(bad_ca.status().message(), HasSubstr("TLS CA file"));
}

TEST(TlsFilesTest, FlagCombinations) {
  EXPECT_TRUE(ValidateTlsFlags({}, "--http").ok());
  EXPECT_THAT(ValidateTlsFlags({false, "c", "", "", false}, "--http").message(),
              HasSubstr("without --http-use-ssl=true"));
  EXPECT_THAT(ValidateTlsFlags({true, "c", "", "", false}, "--grpc").message(),
              HasSubstr("needs --grpc-server-cert and --grpc-server-key"));
  EXPECT_THAT(ValidateTlsFlags({true, "c", "k", "", true}, "--http").message(),
              HasSubstr("--http-use-ssl-mutual needs --http-root-cert"));
  EXPECT_TRUE(ValidateTlsFlags({true, "c", "k", "ca", true}, "--http").ok());
  EXPECT_THAT(
      ValidateTlsFlags({true, "c", "k", "ca", false}, "--grpc").message(),
      HasSubstr("--grpc-root-cert is read only with "
                "--grpc-use-ssl-mutual=true"));
}

TEST(TlsFilesTest, RefusesATruncatedChainOrBundle) {
  KeyPair a = MakeSelfSigned("tls-e");
  KeyPair b = MakeSelfSigned("tls-f");
  std::ifstream in_a(a.cert_path), in_b(b.cert_path);
  std::stringstream pa, pb;
  pa << in_a.rdbuf();
  pb << in_b.rdbuf();
  const std::string bundle = ::testing::TempDir() + "/bundle.pem";
  std::ofstream(bundle) << pa.str() << pb.str();
  EXPECT_TRUE(
      LoadTlsMaterial({true, a.cert_path, a.key_path, bundle, true}).ok());
  // The second certificate cut in half, as a file caught mid-write.
  const std::string cut = ::testing::TempDir() + "/cut.pem";
  std::ofstream(cut) << pa.str() << pb.str().substr(0, pb.str().size() / 2);
  auto ca = LoadTlsMaterial({true, a.cert_path, a.key_path, cut, true});
  EXPECT_THAT(ca.status().message(), HasSubstr("does not parse"));
  auto chain = LoadTlsMaterial({true, cut, a.key_path, "", false});
  EXPECT_THAT(chain.status().message(), HasSubstr("does not parse"));
}

TEST(TlsFilesTest, AnEncryptedKeyIsRefusedWithoutAPrompt) {
  KeyPair a = MakeSelfSigned("tls-g");
  EVP_PKEY* key = nullptr;
  FILE* f = fopen(a.key_path.c_str(), "r");
  key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  fclose(f);
  const std::string encrypted = ::testing::TempDir() + "/encrypted.key";
  f = fopen(encrypted.c_str(), "w");
  static char kPass[] = "secret";
  PEM_write_PrivateKey(f, key, EVP_aes_128_cbc(), nullptr, 0, nullptr, kPass);
  fclose(f);
  EVP_PKEY_free(key);
  auto m = LoadTlsMaterial({true, a.cert_path, encrypted, "", false});
  EXPECT_THAT(m.status().message(),
              HasSubstr("no unencrypted PEM private key"));
}

}  // namespace
}  // namespace serval
