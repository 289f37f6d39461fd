/* Header-only C++ helpers every backend plugin may use beside the C ABI
 * (serval/backend.h): one error type and its conversion at the ABI boundary,
 * config parameter parsing, the CPU count threads are sized from, and
 * datatype names and sizes. Plugins build against include/serval/ only, so
 * these live here rather than in serval's own libraries. Everything is
 * inline and depends on the C++ standard library alone. */
#ifndef SERVAL_BACKEND_UTIL_H_
#define SERVAL_BACKEND_UTIL_H_

#include <sched.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "serval/backend.h"

namespace serval::backend_util {

// A failure with the status code the host should see. Plugins throw it
// inside and turn it into a ServalError at the boundary (ErrorFromCurrent).
class PluginError : public std::runtime_error {
 public:
  PluginError(ServalCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ServalCode code() const { return code_; }

 private:
  ServalCode code_;
};

// Converts the exception being handled (call only inside a catch block)
// into a host error: a PluginError keeps its code, anything else is
// INTERNAL. `context` prefixes the message ("model 'mlp' version 1").
// Plugins with framework exceptions of their own catch those first.
inline ServalError* ErrorFromCurrent(const ServalHostApi& host,
                                     std::string_view context) {
  ServalCode code = SERVAL_INTERNAL;
  std::string message;
  try {
    throw;
  } catch (const PluginError& e) {
    code = e.code();
    message = e.what();
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
    message = "unknown exception";
  }
  if (!context.empty()) message = std::string(context) + ": " + message;
  return host.error_new(code, message.c_str());
}

inline void Log(const ServalHostApi* host, ServalLogLevel level,
                const std::string& message) {
  if (host != nullptr && host->log != nullptr) {
    host->log(level, __FILE__, __LINE__, message.c_str());
  }
}

// The value of config parameter `key`, or nullopt when it is not set.
inline std::optional<std::string_view> FindParameter(
    const ServalModelInfo& info, std::string_view key) {
  for (uint32_t i = 0; i < info.parameter_count; ++i) {
    const ServalParameter& p = info.parameters[i];
    if (p.key != nullptr && key == p.key) {
      return std::string_view(p.value != nullptr ? p.value : "");
    }
  }
  return std::nullopt;
}

// Parses a decimal integer in [1, max]; throws PluginError
// (INVALID_ARGUMENT) naming the parameter otherwise.
inline int ParsePositiveInt(std::string_view key, std::string_view text,
                            int max = 4096) {
  int value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 ||
      value > max) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "parameter '" + std::string(key) +
                          "' must be an integer in [1, " + std::to_string(max) +
                          "], got '" + std::string(text) + "'");
  }
  return value;
}

// Parses true/false (or 1/0); throws PluginError (INVALID_ARGUMENT)
// naming the parameter otherwise.
inline bool ParseBool(std::string_view key, std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  throw PluginError(SERVAL_INVALID_ARGUMENT, "parameter '" + std::string(key) +
                                                 "' must be true or false, "
                                                 "got '" +
                                                 std::string(text) + "'");
}

// An error the host returned, carried through a plugin's code by
// exception and handed back as it is (ThrowIfError, then catch HostError).
struct HostError {
  ServalError* error;
};
inline void ThrowIfError(ServalError* error) {
  if (error != nullptr) throw HostError{error};
}

// Whether the host's table reaches `end` bytes (offsetof + sizeof of the
// newest entry a plugin calls): an older host has a shorter table.
#define SERVAL_HOST_HAS(host, entry) \
  ((host)->struct_size >=            \
   offsetof(ServalHostApi, entry) + sizeof((host)->entry))

// The usual ServalBackendGetApi check: same major version, and a table
// reaching batch_complete (ABI 1.0).
inline bool HostIsUsable(const ServalHostApi* host) {
  return host != nullptr && host->abi_major == SERVAL_BACKEND_ABI_MAJOR &&
         SERVAL_HOST_HAS(host, batch_complete);
}

// CPUs this process may run on (its affinity mask, which containers and
// taskset narrow), else the hardware thread count; at least 1.
inline uint32_t AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<uint32_t>(count);
  }
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? hardware : 1;
}

// Intra-op threads of one instance when the config sets none: the CPUs
// shared out over the instances, so N busy instances never oversubscribe.
inline int DefaultIntraOpThreads(uint32_t instance_count) {
  const uint32_t share =
      AvailableCpus() / (instance_count > 0 ? instance_count : 1);
  return share > 0 ? static_cast<int>(share) : 1;
}

// KServe v2 name of a ServalDataType ("FP32"); "INVALID" when unknown.
inline const char* ApiTypeName(int32_t type) {
  static const char* const kNames[] = {"INVALID", "BOOL",   "UINT8", "UINT16",
                                       "UINT32",  "UINT64", "INT8",  "INT16",
                                       "INT32",   "INT64",  "FP16",  "FP32",
                                       "FP64",    "BF16",   "BYTES"};
  return type >= 0 && type <= SERVAL_TYPE_BYTES ? kNames[type] : "INVALID";
}

// config.pbtxt name of a ServalDataType ("TYPE_FP32", BYTES is
// "TYPE_STRING"); "TYPE_INVALID" when unknown.
inline const char* ConfigTypeName(int32_t type) {
  static const char* const kNames[] = {
      "TYPE_INVALID", "TYPE_BOOL", "TYPE_UINT8", "TYPE_UINT16", "TYPE_UINT32",
      "TYPE_UINT64",  "TYPE_INT8", "TYPE_INT16", "TYPE_INT32",  "TYPE_INT64",
      "TYPE_FP16",    "TYPE_FP32", "TYPE_FP64",  "TYPE_BF16",   "TYPE_STRING"};
  return type >= 0 && type <= SERVAL_TYPE_BYTES ? kNames[type] : "TYPE_INVALID";
}

// Bytes per element; 0 for BYTES (variable) and unknown types.
inline uint64_t ElementSize(int32_t type) {
  switch (type) {
    case SERVAL_TYPE_BOOL:
    case SERVAL_TYPE_UINT8:
    case SERVAL_TYPE_INT8:
      return 1;
    case SERVAL_TYPE_UINT16:
    case SERVAL_TYPE_INT16:
    case SERVAL_TYPE_FP16:
    case SERVAL_TYPE_BF16:
      return 2;
    case SERVAL_TYPE_UINT32:
    case SERVAL_TYPE_INT32:
    case SERVAL_TYPE_FP32:
      return 4;
    case SERVAL_TYPE_UINT64:
    case SERVAL_TYPE_INT64:
    case SERVAL_TYPE_FP64:
      return 8;
    default:
      return 0;
  }
}

// "[1,3,224,224]", as the host writes shapes in its messages.
template <typename Dims>
std::string DimsToString(const Dims& dims) {
  std::string out = "[";
  bool first = true;
  for (int64_t d : dims) {
    if (!first) out += ",";
    out += std::to_string(d);
    first = false;
  }
  return out + "]";
}

}  // namespace serval::backend_util

#endif /* SERVAL_BACKEND_UTIL_H_ */
