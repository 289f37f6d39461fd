// The exceptions the torch plugin throws internally. libtorch reports
// failures by throwing (c10::Error), so the plugin uses exceptions inside
// and converts them to ServalError at the ABI boundary (torch_backend.cc);
// nothing is thrown across the C ABI. Its own failures are PluginErrors
// (serval/backend_util.h); an error the host returned travels as a
// HostError, since the plugin can only pass a host-made error on, not free
// or rebuild it.
#ifndef SERVAL_BACKENDS_TORCH_BACKEND_ERROR_H_
#define SERVAL_BACKENDS_TORCH_BACKEND_ERROR_H_

#include <exception>

#include "serval/backend.h"
#include "serval/backend_util.h"

namespace serval::torch_backend {

using backend_util::PluginError;

class HostError : public std::exception {
 public:
  explicit HostError(ServalError* error) : error_(error) {}
  const char* what() const noexcept override { return "host error"; }
  ServalError* error() const { return error_; }

 private:
  ServalError* error_;
};

// Throws the host's error, if any.
inline void CheckHost(ServalError* error) {
  if (error != nullptr) throw HostError(error);
}

}  // namespace serval::torch_backend

#endif  // SERVAL_BACKENDS_TORCH_BACKEND_ERROR_H_
