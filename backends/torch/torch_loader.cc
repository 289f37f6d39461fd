// The torch plugin as serval loads it (libserval_torch.so): a small library,
// linked against nothing but libc, that sets up the process for libtorch's
// thread pools and then loads the real plugin, libserval_torch_impl.so from
// the same directory, and hands over its function table.
//
// Why a separate library: libgomp reads OMP_WAIT_POLICY, and OpenBLAS reads
// OPENBLAS_CORETYPE, once, when they are loaded, which for the real plugin
// is before any of its code runs. Measured on a 2-core machine serving the
// example MLP over HTTP, with the HTTP thread sharing the cores:
// - OpenMP threads spin between parallel regions by default, taking the
//   core the HTTP thread needs; PASSIVE lets them sleep.
// - OpenBLAS 0.3.21 (Debian 12) does not know recent Xeons (for example
//   family 6 model 207) and falls back to its Prescott (SSE3) kernels, 3x
//   slower than the AVX-512 ones the CPU has.
// Both are defaults only: a value the user set in the environment wins.
#include <dlfcn.h>
#include <stdlib.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "serval/backend.h"

namespace {

const ServalHostApi* g_host = nullptr;
std::string g_load_error;

void Log(ServalLogLevel level, const std::string& message) {
  g_host->log(level, __FILE__, __LINE__, message.c_str());
}

// The OpenBLAS kernel family this CPU can run, by the instruction sets
// OpenBLAS's kernels need; nullptr when its own detection should decide.
const char* OpenBlasCoreFor() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return "Haswell";
  }
  return nullptr;
}

void SetDefault(const char* name, const char* value, const char* why) {
  if (value == nullptr) return;
  if (const char* set = getenv(name); set != nullptr) {
    Log(SERVAL_LOG_INFO, std::string("torch backend: ") + name + "=" + set +
                             " (from the environment)");
    return;
  }
  setenv(name, value, /*overwrite=*/0);
  Log(SERVAL_LOG_INFO, std::string("torch backend: ") + name + "=" + value +
                           " (" + why +
                           "; set it in the environment to "
                           "override)");
}

// The directory this library was loaded from, with a trailing slash.
std::string OwnDirectory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&OwnDirectory), &info) == 0 ||
      info.dli_fname == nullptr) {
    return "";
  }
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

// Stands in for the real table when it could not be loaded, so that every
// torch model fails to load with the reason instead of a vague ABI error.
ServalError* FailModelCreate(const ServalModelInfo*, ServalModelState**) {
  return g_host->error_new(SERVAL_FAILED_PRECONDITION, g_load_error.c_str());
}
void NoModelDestroy(ServalModelState*) {}
ServalError* FailInstanceCreate(ServalModelState*, int32_t, int32_t, uint32_t,
                                ServalInstanceState**) {
  return g_host->error_new(SERVAL_FAILED_PRECONDITION, g_load_error.c_str());
}
void NoInstanceDestroy(ServalInstanceState*) {}
void FailExecute(ServalInstanceState*, ServalBatch* batch) {
  g_host->batch_complete(
      batch, g_host->error_new(SERVAL_INTERNAL, g_load_error.c_str()));
}

const ServalBackendApi kUnavailable = {
    sizeof(ServalBackendApi),
    SERVAL_BACKEND_ABI_MAJOR,
    SERVAL_BACKEND_ABI_MINOR,
    "torch",
    nullptr,
    FailModelCreate,
    NoModelDestroy,
    FailInstanceCreate,
    NoInstanceDestroy,
    FailExecute,
};

}  // namespace

extern "C" SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
    const ServalHostApi* host) {
  constexpr size_t kNeeded =
      offsetof(ServalHostApi, batch_complete) + sizeof(host->batch_complete);
  if (host == nullptr || host->abi_major != SERVAL_BACKEND_ABI_MAJOR ||
      host->struct_size < kNeeded) {
    return nullptr;
  }
  g_host = host;
  SetDefault("OMP_WAIT_POLICY", "PASSIVE",
             "idle OpenMP threads sleep instead of spinning on cores the "
             "server's other threads need");
  SetDefault("OPENBLAS_CORETYPE", OpenBlasCoreFor(),
             "the widest kernels this CPU runs; OpenBLAS may not recognise "
             "a recent CPU and fall back to SSE3");

  const std::string impl = OwnDirectory() + "libserval_torch_impl.so";
  void* handle = dlopen(impl.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    g_load_error = "torch backend: cannot load " + impl + ": " +
                   (why != nullptr ? why : "unknown error");
    Log(SERVAL_LOG_ERROR, g_load_error);
    return &kUnavailable;
  }
  // The library stays loaded for the life of the process, like any plugin.
  auto get_api = reinterpret_cast<ServalBackendGetApiFn>(
      dlsym(handle, SERVAL_BACKEND_ENTRY_POINT));
  if (get_api == nullptr) {
    g_load_error =
        "torch backend: " + impl + " has no " + SERVAL_BACKEND_ENTRY_POINT;
    Log(SERVAL_LOG_ERROR, g_load_error);
    return &kUnavailable;
  }
  return get_api(host);
}
