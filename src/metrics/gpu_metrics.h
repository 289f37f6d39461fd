// GpuMonitor: per-GPU utilization, memory and power from NVIDIA's NVML,
// loaded with dlopen at run time so serval neither links against nor needs
// the driver. On a machine without libnvidia-ml (or without GPUs) Load()
// returns nullptr and the GPU metric families are simply not exported.
// Sample() is thread-safe (NVML is); the library stays loaded for the
// monitor's lifetime.
#ifndef SERVAL_METRICS_GPU_METRICS_H_
#define SERVAL_METRICS_GPU_METRICS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace serval {

struct GpuSample {
  unsigned index = 0;
  std::string uuid;
  std::string name;
  std::optional<double> utilization_ratio;  // 0..1, last sample period
  std::optional<uint64_t> memory_used_bytes;
  std::optional<uint64_t> memory_total_bytes;
  std::optional<double> power_watts;
};

class GpuMonitor {
 public:
  // nullptr when NVML is absent, fails to initialize, or sees no GPU.
  static std::unique_ptr<GpuMonitor> Load();
  ~GpuMonitor();
  GpuMonitor(const GpuMonitor&) = delete;
  GpuMonitor& operator=(const GpuMonitor&) = delete;

  std::vector<GpuSample> Sample() const;

 private:
  struct Api;
  explicit GpuMonitor(std::unique_ptr<Api> api);
  std::unique_ptr<Api> api_;
};

}  // namespace serval

#endif  // SERVAL_METRICS_GPU_METRICS_H_
