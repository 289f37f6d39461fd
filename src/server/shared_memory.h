// The system shared-memory extension: named regions of POSIX shared memory
// (shm_open keys) that clients register, and that requests then read inputs
// from and write outputs into, so a client on the same host moves no tensor
// bytes through the socket. Each registered region is mapped once; a
// request pins the mapping it uses, so unregistering a region in use only
// unmaps it when its last request is done. Thread-safe.
#ifndef SERVAL_SERVER_SHARED_MEMORY_H_
#define SERVAL_SERVER_SHARED_MEMORY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/server_api.h"

namespace serval {

class SystemSharedMemory {
 public:
  // Maps [offset, offset + byte_size) of the shared-memory object `key`.
  // ALREADY_EXISTS for a name in use; errors start with Triton's texts.
  absl::Status Register(std::string_view name, std::string_view key,
                        uint64_t offset, uint64_t byte_size);
  // Forgets a region (its mapping goes once no request uses it); every
  // region when `name` is empty. An unknown name is not an error.
  absl::Status Unregister(std::string_view name);
  // Every region, sorted by name, or the one named (NOT_FOUND if unknown).
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>> Status(
      std::string_view name) const;
  // [offset, offset + byte_size) within the region, bounds checked;
  // INVALID_ARGUMENT for an unknown region or bounds outside it.
  absl::StatusOr<SharedMemoryView> Map(std::string_view name, uint64_t offset,
                                       uint64_t byte_size) const;

  // Regions are limited in number, so a client cannot exhaust the
  // process's mappings.
  static constexpr size_t kMaxRegions = 1024;

 private:
  struct Region;

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const Region>, std::less<>> regions_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace serval

#endif  // SERVAL_SERVER_SHARED_MEMORY_H_
