// TLS credentials of the gRPC frontend that follow certificate reloads.
// gRPC's server credentials are fixed once the server is built, but a
// FileWatcherCertificateProvider re-reads its files. So serval checks the
// user's files, copies the checked set into a private directory, and
// points the watcher there; Reload() checks the files again and swaps the
// copy in with one atomic rename. Bad files are refused at that step and
// never reach gRPC, and the watcher never sees a key of one set with the
// certificate of another. Open connections keep their session.
#ifndef SERVAL_FRONTEND_GRPC_GRPC_TLS_H_
#define SERVAL_FRONTEND_GRPC_GRPC_TLS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "security/tls_files.h"

namespace serval {

class GrpcTls {
 public:
  // How often gRPC looks at the private copy; a reload takes effect
  // within this time.
  static constexpr unsigned kRefreshSeconds = 1;

  // Checks `files` and makes the private copy. INVALID_ARGUMENT for files
  // that do not load, INTERNAL when the copy cannot be written.
  static absl::StatusOr<std::unique_ptr<GrpcTls>> Create(TlsFiles files);
  ~GrpcTls();  // removes the private copy
  GrpcTls(const GrpcTls&) = delete;
  GrpcTls& operator=(const GrpcTls&) = delete;

  std::shared_ptr<grpc::ServerCredentials> Credentials() const;

  // Reads the user's files again; see the class comment. Thread-safe.
  absl::Status Reload();

 private:
  GrpcTls(TlsFiles files, std::string directory);
  // Writes `material` as generation `generation_ + 1` and points
  // `current` at it.
  absl::Status Install(const TlsMaterial& material)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TlsFiles files_;
  const std::string directory_;  // 0700, removed by the destructor
  std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> provider_;
  absl::Mutex mu_;
  int generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_GRPC_TLS_H_
