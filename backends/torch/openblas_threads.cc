#include "openblas_threads.h"

#include <dlfcn.h>

namespace serval::torch_backend {
namespace {

// The already-loaded OpenBLAS, or nullptr. RTLD_NOLOAD: never loads it.
void* OpenBlasHandle() {
  static void* const handle =
      dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  return handle;
}

template <typename Fn>
Fn Symbol(const char* name) {
  void* handle = OpenBlasHandle();
  return handle != nullptr ? reinterpret_cast<Fn>(dlsym(handle, name))
                           : nullptr;
}

}  // namespace

BlasReport ProbeBlas() {
  BlasReport report;
  auto get_parallel = Symbol<int (*)()>("openblas_get_parallel");
  auto get_threads = Symbol<int (*)()>("openblas_get_num_threads");
  if (get_parallel == nullptr || get_threads == nullptr) {
    void* blas = dlopen("libblas.so.3", RTLD_LAZY | RTLD_NOLOAD);
    if (blas != nullptr) {
      dlclose(blas);
      report.is_warning = true;
      report.summary =
          "torch backend: libtorch uses a BLAS that is not OpenBLAS "
          "(libblas.so.3 is probably the reference BLAS); install "
          "libopenblas0-pthread, matrix products are about 10x slower "
          "without it";
    } else {
      report.summary = "torch backend: libtorch brings its own BLAS";
    }
    return report;
  }
  report.openblas = true;
  switch (get_parallel()) {
    case 0:
      report.parallel = "serial";
      break;
    case 1:
      report.parallel = "pthread";
      break;
    default:
      report.parallel = "openmp";
      break;
  }
  report.threads = get_threads();
  report.summary = "torch backend: BLAS is OpenBLAS (" + report.parallel +
                   ", " + std::to_string(report.threads) + " threads)";
  return report;
}

void SetOpenBlasThreads(int threads) {
  auto set_threads = Symbol<void (*)(int)>("openblas_set_num_threads");
  if (set_threads != nullptr && threads > 0) set_threads(threads);
}

}  // namespace serval::torch_backend
