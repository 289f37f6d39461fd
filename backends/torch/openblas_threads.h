// OpenBlasThreads: finds the OpenBLAS that libtorch loaded (Debian's
// libtorch calls BLAS through libblas.so.3, which the alternatives system
// points at OpenBLAS or at the ~10x slower reference BLAS) and sizes its
// thread pool.
//
// OpenBLAS's pthread pool is process-wide and separate from ATen's OpenMP
// intra-op teams, so it is not divided by at::set_num_threads: left alone
// it uses every core in each instance's matrix products. The plugin sets it
// to the per-instance share, the same number an instance gets for intra-op
// work. Last writer wins; with the default policy (cores / instances) all
// models of a process agree when they have the same instance count.
// Thread-safe (OpenBLAS's own setter is).
#ifndef SERVAL_BACKENDS_TORCH_OPENBLAS_THREADS_H_
#define SERVAL_BACKENDS_TORCH_OPENBLAS_THREADS_H_

#include <string>

namespace serval::torch_backend {

struct BlasReport {
  // False when no OpenBLAS is loaded in the process.
  bool openblas = false;
  // OpenBLAS's threading model: "pthread", "openmp" or "serial".
  std::string parallel;
  int threads = 0;
  // One line for the log; a warning when BLAS is not OpenBLAS.
  std::string summary;
  bool is_warning = false;
};

// Inspects the BLAS loaded into the process (call after libtorch is loaded).
BlasReport ProbeBlas();

// Sets OpenBLAS's process-wide thread count; does nothing without OpenBLAS.
void SetOpenBlasThreads(int threads);

}  // namespace serval::torch_backend

#endif  // SERVAL_BACKENDS_TORCH_OPENBLAS_THREADS_H_
