// The MD5 of a file written in parts that complete in any order, taken
// while the download runs instead of reading the whole file again after
// it: as soon as parts join the hashed prefix, they are read back (from
// the page cache, just written) and hashed in offset order. One thread
// hashes at a time; the others report their part and go back to
// downloading. Thread-safe.
#ifndef SERVAL_REPOSITORY_STORAGE_ORDERED_MD5_H_
#define SERVAL_REPOSITORY_STORAGE_ORDERED_MD5_H_

#include <openssl/evp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace serval {

class OrderedMd5 {
 public:
  // `fd` is the file being written; it must stay open until Finish.
  explicit OrderedMd5(int fd);
  ~OrderedMd5();
  OrderedMd5(const OrderedMd5&) = delete;
  OrderedMd5& operator=(const OrderedMd5&) = delete;

  // Bytes [offset, offset + length) are in the file. Parts must not
  // overlap.
  void Done(uint64_t offset, uint64_t length);

  // The hex digest once `size` bytes from offset 0 were hashed; nullopt
  // when they were not (a part missing, or the file could not be read).
  std::optional<std::string> Finish(uint64_t size);

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  // Hashes [from, to) of the file; false when it cannot be read.
  bool Hash(uint64_t from, uint64_t to);

  const int fd_;
  // Used only by the thread that holds `hashing_`.
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;

  absl::Mutex mu_;
  uint64_t hashed_ ABSL_GUARDED_BY(mu_) = 0;
  // Finished parts beyond the hashed prefix: offset -> length.
  std::map<uint64_t, uint64_t> done_ ABSL_GUARDED_BY(mu_);
  bool hashing_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_ORDERED_MD5_H_
