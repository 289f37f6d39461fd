#include "server/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace serval {

// One mapped region: unmapped when the last holder (the registry or a
// request) lets go.
struct SystemSharedMemory::Region {
  SharedMemoryRegionStatus status;
  void* mapping = MAP_FAILED;
  size_t mapping_length = 0;
  char* data = nullptr;  // the registered offset within the object

  ~Region() {
    if (mapping != MAP_FAILED) munmap(mapping, mapping_length);
  }
};

absl::Status SystemSharedMemory::Register(std::string_view name,
                                          std::string_view key, uint64_t offset,
                                          uint64_t byte_size) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "'region name' is necessary to register system shared memory region");
  }
  if (key.empty() || key.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "Shared memory register request has no valid 'key' field");
  }
  {
    absl::MutexLock lock(&mu_);
    if (regions_.count(name) > 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          "shared memory region '", ToAbsl(name), "' already in manager"));
    }
    if (regions_.size() >= kMaxRegions) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "failed to register shared memory region '", ToAbsl(name),
          "': the server already has ", kMaxRegions, " regions"));
    }
  }
  const std::string key_text(key);
  const int fd = shm_open(key_text.c_str(), O_RDWR, 0);
  if (fd < 0) {
    // A key that does not exist or that the server may not open is the
    // client's to fix.
    const int error = errno;
    const std::string message =
        absl::StrCat("Unable to open shared memory region: '", key_text,
                     "': ", std::strerror(error));
    return error == ENOENT || error == EACCES || error == EINVAL ||
                   error == ENAMETOOLONG
               ? absl::InvalidArgumentError(message)
               : absl::InternalError(message);
  }
  struct stat st {};
  const bool stat_ok = fstat(fd, &st) == 0 && st.st_size >= 0;
  const uint64_t object_size = stat_ok ? static_cast<uint64_t>(st.st_size) : 0;
  if (!stat_ok || offset > object_size || byte_size > object_size - offset ||
      byte_size == 0) {
    close(fd);
    if (!stat_ok) {
      return absl::InternalError(
          absl::StrCat("Invalid shared memory region: '", key_text, "'"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "failed to register shared memory region '", ToAbsl(name),
        "': invalid args: offset ", offset, " + byte_size ", byte_size,
        " exceed the object's ", object_size, " bytes"));
  }
  // mmap wants a page-aligned offset: map from the page start.
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t aligned = offset - offset % page;
  auto region = std::make_shared<Region>();
  region->mapping_length = static_cast<size_t>(byte_size + (offset - aligned));
  region->mapping =
      mmap(nullptr, region->mapping_length, PROT_READ | PROT_WRITE, MAP_SHARED,
           fd, static_cast<off_t>(aligned));
  const int mmap_errno = errno;
  close(fd);
  if (region->mapping == MAP_FAILED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "failed to register shared memory region '", ToAbsl(name),
        "': unable to process address space: ", std::strerror(mmap_errno)));
  }
  region->data = static_cast<char*>(region->mapping) + (offset - aligned);
  region->status = {std::string(name), key_text, offset, byte_size};
  absl::MutexLock lock(&mu_);
  auto [it, added] = regions_.emplace(std::string(name), std::move(region));
  if (!added) {  // registered meanwhile by another call
    return absl::AlreadyExistsError(absl::StrCat(
        "shared memory region '", ToAbsl(name), "' already in manager"));
  }
  return absl::OkStatus();
}

absl::Status SystemSharedMemory::Unregister(std::string_view name) {
  // Released outside the lock: a last reference unmaps.
  std::vector<std::shared_ptr<const Region>> released;
  absl::MutexLock lock(&mu_);
  if (name.empty()) {
    for (auto& [n, r] : regions_) released.push_back(std::move(r));
    regions_.clear();
    return absl::OkStatus();
  }
  auto it = regions_.find(name);
  if (it != regions_.end()) {
    released.push_back(std::move(it->second));
    regions_.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SharedMemoryRegionStatus>>
SystemSharedMemory::Status(std::string_view name) const {
  absl::MutexLock lock(&mu_);
  std::vector<SharedMemoryRegionStatus> out;
  if (name.empty()) {
    for (const auto& [n, r] : regions_) out.push_back(r->status);
    return out;
  }
  auto it = regions_.find(name);
  if (it == regions_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "Unable to find system shared memory region: '", ToAbsl(name), "'"));
  }
  out.push_back(it->second->status);
  return out;
}

absl::StatusOr<SharedMemoryView> SystemSharedMemory::Map(
    std::string_view name, uint64_t offset, uint64_t byte_size) const {
  std::shared_ptr<const Region> region;
  {
    absl::MutexLock lock(&mu_);
    auto it = regions_.find(name);
    if (it == regions_.end()) {
      // The request is wrong, not its URL: INVALID_ARGUMENT (400).
      return absl::InvalidArgumentError(absl::StrCat(
          "Unable to find shared memory region: '", ToAbsl(name), "'"));
    }
    region = it->second;
  }
  const uint64_t size = region->status.byte_size;
  if (offset > size || (offset == size && byte_size > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid offset for shared memory region: '", ToAbsl(name),
                     "': ", offset, " is beyond its ", size, " bytes"));
  }
  if (byte_size > size - offset) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid offset + byte size for shared memory region: '", ToAbsl(name),
        "': ", offset, " + ", byte_size, " exceed its ", size, " bytes"));
  }
  SharedMemoryView view;
  view.data = region->data + offset;
  view.size = byte_size;
  view.pin = std::move(region);
  return view;
}

}  // namespace serval
