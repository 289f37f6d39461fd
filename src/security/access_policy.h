// Access control by endpoint group, as Triton's --http-restricted-api and
// --grpc-restricted-protocol: each rule names API groups and the
// credential a request to them must carry, either a header (gRPC:
// metadata) with an exact value, or an `Authorization: Bearer` token.
// Groups no rule names stay open. Immutable once parsed; Check is
// thread-safe.
#ifndef SERVAL_SECURITY_ACCESS_POLICY_H_
#define SERVAL_SECURITY_ACCESS_POLICY_H_

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace serval {

// Triton's API groups, plus /metrics (the metrics port).
enum class ApiGroup {
  kHealth,
  kMetadata,
  kInference,
  kSharedMemory,
  kModelConfig,
  kModelRepository,
  kStatistics,
  kTrace,
  kLogging,
  kMetrics,
};
inline constexpr size_t kApiGroupCount = 10;

// "health", "model-repository", ...
std::string_view ApiGroupName(ApiGroup group);

enum class AccessDecision {
  kAllowed,
  // The credential is missing: HTTP 401, gRPC UNAUTHENTICATED.
  kUnauthenticated,
  // A credential was given and is wrong: HTTP 403, gRPC PERMISSION_DENIED.
  kDenied,
};

// The protocol a policy is for: gRPC metadata keys are lower case and may
// carry Triton's "triton-grpc-protocol-" prefix; /metrics is HTTP only.
enum class AccessProtocol { kHttp, kGrpc };

class AccessPolicy {
 public:
  // Looks up a request header by name (HTTP: case-insensitive; gRPC: the
  // lower-case metadata key). nullopt when absent.
  using HeaderLookup =
      std::function<std::optional<std::string_view>(std::string_view)>;

  // An open policy: every group allowed.
  AccessPolicy() = default;

  // Parses rules of the form GROUP[,GROUP...]:KEY=VALUE (the header KEY
  // must equal VALUE) or GROUP[,GROUP...]:bearer=TOKEN (Authorization:
  // Bearer TOKEN). VALUE and TOKEN may be @PATH, read from a file. A group
  // may appear in one rule only. `flag` names the option in errors.
  static absl::StatusOr<AccessPolicy> Parse(
      const std::vector<std::string>& rules, AccessProtocol protocol,
      std::string_view flag);

  // Whether a request to `group` carrying `headers` may proceed.
  AccessDecision Check(ApiGroup group, const HeaderLookup& headers) const;
  // The same as the status every frontend answers with: OK,
  // UNAUTHENTICATED (HTTP 401) or PERMISSION_DENIED (403), with the
  // messages below.
  absl::Status Authorize(ApiGroup group, const HeaderLookup& headers) const;

  bool restricts(ApiGroup group) const {
    return rules_[static_cast<size_t>(group)].has_value();
  }
  // Whether any group is restricted (false: nothing to check at all).
  bool restricts_any() const;
  // Whether the rule for `group` is a bearer token (a 401 then says
  // `WWW-Authenticate: Bearer`).
  bool wants_bearer(ApiGroup group) const;
  // One line per restricted group for the start-up log, without secrets.
  std::string Describe() const;

 private:
  struct Rule {
    bool bearer = false;
    std::string key;  // header name; "authorization" for bearer
    std::string value;
  };
  AccessProtocol protocol_ = AccessProtocol::kHttp;
  std::array<std::optional<Rule>, kApiGroupCount> rules_;
};

// The messages of a refusal: the same whatever part of the credential was
// wrong, so a client learns nothing about the secret from them.
inline constexpr char kUnauthenticatedMessage[] =
    "this API is restricted: credentials are required";
inline constexpr char kDeniedMessage[] =
    "this API is restricted: access denied";

}  // namespace serval

#endif  // SERVAL_SECURITY_ACCESS_POLICY_H_
