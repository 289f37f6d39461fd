// Maps absl::StatusCode to HTTP status and gRPC codes: the one table both
// frontends answer errors with (docs/architecture.md).
// The single table every frontend uses, so REST and gRPC never disagree.
#ifndef SERVAL_COMMON_STATUS_MAP_H_
#define SERVAL_COMMON_STATUS_MAP_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace serval {

// HTTP status for an error code: INVALID_ARGUMENT->400,
// UNAUTHENTICATED->401, PERMISSION_DENIED->403, NOT_FOUND->404,
// UNAVAILABLE->503, RESOURCE_EXHAUSTED->429, DEADLINE_EXCEEDED->504,
// UNIMPLEMENTED->501, INTERNAL->500, CANCELLED->499; OK->200.
int HttpStatusFor(absl::StatusCode code);

// The gRPC status code number (identical numbering to absl).
int GrpcCodeFor(absl::StatusCode code);

// Canonical upper-case name, e.g. "INVALID_ARGUMENT".
std::string_view CodeName(absl::StatusCode code);

// A refusal under load may say when to retry: seconds until the queued
// work should have drained, carried as a status payload so that every
// layer passes it through untouched; the HTTP frontend turns it into
// Retry-After.
inline constexpr char kRetryAfterPayload[] = "serval/retry-after-seconds";
void SetRetryAfter(absl::Status* status, uint64_t seconds);
// The payload's seconds; 0 when the status carries none.
uint64_t RetryAfterSeconds(const absl::Status& status);

// Converts a ServalCode received over the backend ABI; unknown values
// become UNKNOWN rather than being trusted.
absl::StatusCode CodeFromInt(int code);

}  // namespace serval

#endif  // SERVAL_COMMON_STATUS_MAP_H_
