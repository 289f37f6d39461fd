// Early returns on error, so a function's happy path reads top to bottom:
//
//   RETURN_IF_ERROR(Validate(config));
//   ASSIGN_OR_RETURN(auto spec, ModelSpec::FromConfig(config));
//   ASSIGN_OR_RETURN(spec, Rebuild(spec), Annotate(_, "model 'm'"));
//
// The optional third argument of ASSIGN_OR_RETURN (and second of
// RETURN_IF_ERROR) is an expression over `_`, the failed status, giving the
// status to return instead; Annotate keeps the code and adds context.
#ifndef SERVAL_COMMON_STATUS_MACROS_H_
#define SERVAL_COMMON_STATUS_MACROS_H_

#include <string_view>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace serval {

// The same code, the message prefixed: "<context>: <message>".
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace serval

#define SERVAL_STATUS_CONCAT_INNER(a, b) a##b
#define SERVAL_STATUS_CONCAT(a, b) SERVAL_STATUS_CONCAT_INNER(a, b)
#define SERVAL_STATUS_SELECT(_1, _2, _3, NAME, ...) NAME

#define RETURN_IF_ERROR(...)                                          \
  SERVAL_STATUS_SELECT(__VA_ARGS__, unused, SERVAL_RETURN_IF_ERROR_2, \
                       SERVAL_RETURN_IF_ERROR_1)                      \
  (__VA_ARGS__)
#define SERVAL_RETURN_IF_ERROR_1(expr)              \
  do {                                              \
    ::absl::Status _serval_status = (expr);         \
    if (ABSL_PREDICT_FALSE(!_serval_status.ok())) { \
      return _serval_status;                        \
    }                                               \
  } while (false)
#define SERVAL_RETURN_IF_ERROR_2(expr, on_error)    \
  do {                                              \
    ::absl::Status _serval_status = (expr);         \
    if (ABSL_PREDICT_FALSE(!_serval_status.ok())) { \
      const ::absl::Status& _ = _serval_status;     \
      return (on_error);                            \
    }                                               \
  } while (false)

#define ASSIGN_OR_RETURN(...)                                  \
  SERVAL_STATUS_SELECT(__VA_ARGS__, SERVAL_ASSIGN_OR_RETURN_3, \
                       SERVAL_ASSIGN_OR_RETURN_2, unused)      \
  (__VA_ARGS__)
#define SERVAL_ASSIGN_OR_RETURN_2(lhs, rexpr)                         \
  SERVAL_ASSIGN_OR_RETURN_IMPL(                                       \
      SERVAL_STATUS_CONCAT(_serval_status_or_, __LINE__), lhs, rexpr, \
      std::move(SERVAL_STATUS_CONCAT(_serval_status_or_, __LINE__)).status())
#define SERVAL_ASSIGN_OR_RETURN_3(lhs, rexpr, on_error)               \
  SERVAL_ASSIGN_OR_RETURN_IMPL(                                       \
      SERVAL_STATUS_CONCAT(_serval_status_or_, __LINE__), lhs, rexpr, \
      [&](const ::absl::Status& _) -> ::absl::Status {                \
        return on_error;                                              \
      }(SERVAL_STATUS_CONCAT(_serval_status_or_, __LINE__).status()))
#define SERVAL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr, error) \
  auto tmp = (rexpr);                                        \
  if (ABSL_PREDICT_FALSE(!tmp.ok())) return error;           \
  lhs = *std::move(tmp)

#endif  // SERVAL_COMMON_STATUS_MACROS_H_
