#include "metrics/gpu_metrics.h"

#include <dlfcn.h>

#include "spdlog/spdlog.h"

namespace serval {
namespace {

// The few NVML declarations used, from NVIDIA's public nvml.h (stable C
// ABI); declared here so the build needs no CUDA headers.
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};
struct nvmlMemory_t {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

}  // namespace

struct GpuMonitor::Api {
  void* library = nullptr;
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  nvmlReturn_t (*count)(unsigned int*) = nullptr;
  nvmlReturn_t (*handle)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*utilization)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned int*) = nullptr;  // mW
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned int) = nullptr;

  template <typename F>
  bool Bind(F* f, const char* symbol) {
    *f = reinterpret_cast<F>(dlsym(library, symbol));
    return *f != nullptr;
  }
};

std::unique_ptr<GpuMonitor> GpuMonitor::Load() {
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return nullptr;
  auto api = std::make_unique<Api>();
  api->library = lib;
  const bool bound =
      api->Bind(&api->init, "nvmlInit_v2") &&
      api->Bind(&api->shutdown, "nvmlShutdown") &&
      api->Bind(&api->count, "nvmlDeviceGetCount_v2") &&
      api->Bind(&api->handle, "nvmlDeviceGetHandleByIndex_v2") &&
      api->Bind(&api->utilization, "nvmlDeviceGetUtilizationRates") &&
      api->Bind(&api->memory, "nvmlDeviceGetMemoryInfo") &&
      api->Bind(&api->power, "nvmlDeviceGetPowerUsage") &&
      api->Bind(&api->name, "nvmlDeviceGetName") &&
      api->Bind(&api->uuid, "nvmlDeviceGetUUID");
  unsigned int count = 0;
  if (!bound || api->init() != kNvmlSuccess) {
    spdlog::info("NVML present but unusable; GPU metrics are off");
    dlclose(lib);
    return nullptr;
  }
  if (api->count(&count) != kNvmlSuccess || count == 0) {
    api->shutdown();
    dlclose(lib);
    return nullptr;
  }
  spdlog::info("GPU metrics from NVML: {} device(s)", count);
  return std::unique_ptr<GpuMonitor>(new GpuMonitor(std::move(api)));
}

GpuMonitor::GpuMonitor(std::unique_ptr<Api> api) : api_(std::move(api)) {}

GpuMonitor::~GpuMonitor() {
  api_->shutdown();
  dlclose(api_->library);
}

std::vector<GpuSample> GpuMonitor::Sample() const {
  std::vector<GpuSample> out;
  unsigned int count = 0;
  if (api_->count(&count) != kNvmlSuccess) return out;
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t device = nullptr;
    if (api_->handle(i, &device) != kNvmlSuccess) continue;
    GpuSample s;
    s.index = i;
    char text[96] = {};
    if (api_->uuid(device, text, sizeof(text)) == kNvmlSuccess) s.uuid = text;
    if (api_->name(device, text, sizeof(text)) == kNvmlSuccess) s.name = text;
    nvmlUtilization_t u{};
    if (api_->utilization(device, &u) == kNvmlSuccess) {
      s.utilization_ratio = u.gpu / 100.0;
    }
    nvmlMemory_t m{};
    if (api_->memory(device, &m) == kNvmlSuccess) {
      s.memory_used_bytes = m.used;
      s.memory_total_bytes = m.total;
    }
    unsigned int milliwatts = 0;
    if (api_->power(device, &milliwatts) == kNvmlSuccess) {
      s.power_watts = milliwatts / 1000.0;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace serval
