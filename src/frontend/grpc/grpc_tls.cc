#include "frontend/grpc/grpc_tls.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "spdlog/spdlog.h"

namespace serval {
namespace {

namespace fs = std::filesystem;

// Writes `contents` to `path`, readable by this user only.
absl::Status WritePrivate(const std::string& path,
                          const std::string& contents) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n <= 0) {
      close(fd);
      return absl::InternalError(absl::StrCat("cannot write ", path));
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return absl::OkStatus();
}

}  // namespace

GrpcTls::GrpcTls(TlsFiles files, std::string directory)
    : files_(std::move(files)), directory_(std::move(directory)) {}

absl::StatusOr<std::unique_ptr<GrpcTls>> GrpcTls::Create(TlsFiles files) {
  auto material = LoadTlsMaterial(files);
  if (!material.ok()) return material.status();
  std::error_code tmp_error;
  const fs::path tmp = fs::temp_directory_path(tmp_error);
  if (tmp_error) {
    return absl::InternalError(absl::StrCat(
        "no temp directory for the gRPC certificates: ", tmp_error.message()));
  }
  std::string dir = (tmp / "serval-grpc-tls-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(
        "cannot create a private directory for the gRPC certificates");
  }
  std::unique_ptr<GrpcTls> tls(new GrpcTls(std::move(files), dir));
  {
    absl::MutexLock lock(&tls->mu_);
    if (absl::Status s = tls->Install(*material); !s.ok()) return s;
  }
  const std::string current = dir + "/current/";
  tls->provider_ =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          current + "key.pem", current + "cert.pem",
          material->verify_client ? current + "ca.pem" : std::string(),
          kRefreshSeconds);
  spdlog::info(
      "gRPC TLS certificate loaded: {}{}", material->summary,
      material->verify_client ? " (client certificates required)" : "");
  return tls;
}

GrpcTls::~GrpcTls() {
  provider_.reset();
  std::error_code ignored;
  fs::remove_all(directory_, ignored);
}

std::shared_ptr<grpc::ServerCredentials> GrpcTls::Credentials() const {
  grpc::experimental::TlsServerCredentialsOptions options(provider_);
  options.watch_identity_key_cert_pairs();
  if (files_.verify_client) {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

absl::Status GrpcTls::Install(const TlsMaterial& material) {
  const int next = generation_ + 1;
  const std::string gen_dir = absl::StrCat(directory_, "/", next);
  std::error_code ec;
  fs::create_directory(gen_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", gen_dir));
  absl::Status s = WritePrivate(gen_dir + "/cert.pem", material.cert_pem);
  if (s.ok()) s = WritePrivate(gen_dir + "/key.pem", material.key_pem);
  if (s.ok() && material.verify_client) {
    s = WritePrivate(gen_dir + "/ca.pem", material.ca_pem);
  }
  if (!s.ok()) return s;
  // gRPC's watcher tells that a file changed while it read the set by its
  // mtime, in whole seconds: each generation gets its own, so two reloads
  // within one second cannot pass for one.
  for (const char* name : {"cert.pem", "key.pem", "ca.pem"}) {
    const std::string path = gen_dir + "/" + name;
    const timespec times[2] = {{next, 0}, {next, 0}};
    utimensat(AT_FDCWD, path.c_str(), times, 0);  // no ca.pem: a no-op
  }
  // A new link renamed over the old one: the watcher resolves either the
  // old set or the new one.
  const std::string link = absl::StrCat(directory_, "/current.new");
  fs::remove(link, ec);
  fs::create_directory_symlink(std::to_string(next), link, ec);
  if (!ec) fs::rename(link, directory_ + "/current", ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot switch the gRPC certificates: ", ec.message()));
  }
  // The generation before the previous one is no longer read by anyone.
  fs::remove_all(absl::StrCat(directory_, "/", next - 2), ec);
  generation_ = next;
  return absl::OkStatus();
}

absl::Status GrpcTls::Reload() {
  auto material = LoadTlsMaterial(files_);
  if (!material.ok()) return material.status();
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Install(*material); !s.ok()) return s;
  spdlog::info("gRPC TLS certificate reloaded (in use within {} s): {}",
               kRefreshSeconds, material->summary);
  return absl::OkStatus();
}

}  // namespace serval
