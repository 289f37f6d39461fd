#include "shared_region.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "serval/backend_util.h"

namespace serval::python {
namespace {

using backend_util::PluginError;

[[noreturn]] void Fail(const std::string& what) {
  throw PluginError(SERVAL_RESOURCE_EXHAUSTED,
                    what + ": " + std::string(std::strerror(errno)));
}

}  // namespace

SharedRegion::SharedRegion(const std::string& name) {
  // Close-on-exec: the stub gets a dup2'd copy at a fixed number.
  fd_ = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd_ < 0) Fail("cannot create shared memory '" + name + "'");
}

SharedRegion::~SharedRegion() {
  if (data_ != nullptr) munmap(data_, size_);
  if (fd_ >= 0) close(fd_);
}

void SharedRegion::Map(size_t bytes) {
  if (data_ != nullptr) munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  if (bytes == 0) return;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) Fail("cannot map shared memory");
  data_ = static_cast<uint8_t*>(p);
  size_ = bytes;
}

void SharedRegion::Reserve(size_t bytes) {
  if (bytes <= size_ && data_ != nullptr) return;
  constexpr size_t kPage = 4096;
  size_t grown = std::max({bytes, 2 * size_, size_t{1} << 20});
  grown = (grown + kPage - 1) / kPage * kPage;
  if (ftruncate(fd_, static_cast<off_t>(grown)) != 0) {
    Fail("cannot grow shared memory to " + std::to_string(grown) + " bytes");
  }
  Map(grown);
}

void SharedRegion::Remap(size_t bytes) {
  if (bytes == size_ && (data_ != nullptr || bytes == 0)) return;
  // Never map past the end of the file: a stub that reports a size it did
  // not set would make every access a SIGBUS.
  struct stat st {};
  if (fstat(fd_, &st) != 0 || static_cast<size_t>(st.st_size) < bytes) {
    throw PluginError(SERVAL_INTERNAL,
                      "the stub reported an output region of " +
                          std::to_string(bytes) +
                          " bytes, larger than the file it shares");
  }
  Map(bytes);
}

}  // namespace serval::python
