// SharedRegion: an anonymous shared memory file (memfd) mapped into this
// process. A stub process gets the file descriptor at start and maps the
// same pages: the server writes a batch's inputs into one region and the
// stub writes the outputs into another, so tensors never cross a socket.
// Either side may grow a region (ftruncate); the other remaps on the size
// it is told. Not thread-safe: one instance uses its regions from one
// thread at a time.
#ifndef SERVAL_BACKENDS_PYTHON_SHARED_REGION_H_
#define SERVAL_BACKENDS_PYTHON_SHARED_REGION_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace serval::python {

class SharedRegion {
 public:
  // Creates an empty region; throws PluginError when the system refuses.
  explicit SharedRegion(const std::string& name);
  ~SharedRegion();
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  int fd() const { return fd_; }
  size_t size() const { return size_; }
  uint8_t* data() const { return data_; }

  // Grows the file and the mapping to at least `bytes` (rounded up, and at
  // least doubling, so a growing workload remaps rarely).
  void Reserve(size_t bytes);
  // Maps the file at `bytes`, the size the other side gave it.
  void Remap(size_t bytes);

 private:
  void Map(size_t bytes);

  int fd_ = -1;
  size_t size_ = 0;
  uint8_t* data_ = nullptr;
};

}  // namespace serval::python

#endif  // SERVAL_BACKENDS_PYTHON_SHARED_REGION_H_
