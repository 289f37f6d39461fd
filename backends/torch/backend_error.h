// BackendError: the one exception type the torch plugin throws internally.
//
// libtorch reports failures by throwing (c10::Error), so the plugin uses
// exceptions inside and converts them to ServalError at the ABI boundary
// (torch_backend.cc); nothing is thrown across the C ABI. A BackendError
// carries either a code and message made here, or an error the host
// returned (host-made errors cannot be freed by the plugin, only passed on).
#ifndef SERVAL_BACKENDS_TORCH_BACKEND_ERROR_H_
#define SERVAL_BACKENDS_TORCH_BACKEND_ERROR_H_

#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include "serval/backend.h"

namespace serval::torch_backend {

class BackendError : public std::exception {
 public:
  BackendError(ServalCode code, std::string message)
      : code_(code), message_(std::move(message)) {}
  // Wraps an error the host returned; the catcher passes it on unchanged.
  explicit BackendError(ServalError* host_error)
      : code_(SERVAL_INTERNAL),
        message_("host error"),
        host_error_(host_error) {}

  ServalCode code() const { return code_; }
  const char* what() const noexcept override { return message_.c_str(); }
  ServalError* host_error() const { return host_error_; }

 private:
  ServalCode code_;
  std::string message_;
  ServalError* host_error_ = nullptr;
};

// Throws the host's error, if any.
inline void CheckHost(ServalError* error) {
  if (error != nullptr) throw BackendError(error);
}

}  // namespace serval::torch_backend

#endif  // SERVAL_BACKENDS_TORCH_BACKEND_ERROR_H_
