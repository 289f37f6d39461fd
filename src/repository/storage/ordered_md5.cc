#include "repository/storage/ordered_md5.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "repository/storage/crypto.h"

namespace serval {

OrderedMd5::OrderedMd5(int fd) : fd_(fd), ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr);
}

OrderedMd5::~OrderedMd5() = default;

bool OrderedMd5::Hash(uint64_t from, uint64_t to) {
  // Only while hashing: a model of many small files creates one OrderedMd5
  // per file before any download starts.
  std::vector<char> scratch(
      static_cast<size_t>(std::min<uint64_t>(uint64_t{1} << 20, to - from)));
  while (from < to) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(scratch.size(), to - from));
    const ssize_t n =
        pread(fd_, scratch.data(), want, static_cast<off_t>(from));
    if (n <= 0) return false;
    EVP_DigestUpdate(ctx_.get(), scratch.data(), static_cast<size_t>(n));
    from += static_cast<uint64_t>(n);
  }
  return true;
}

void OrderedMd5::Done(uint64_t offset, uint64_t length) {
  mu_.Lock();
  if (length > 0) done_.emplace(offset, length);
  // The thread already hashing takes this part too; else this one does.
  if (!hashing_ && !failed_) {
    hashing_ = true;
    for (auto next = done_.find(hashed_); next != done_.end();
         next = done_.find(hashed_)) {
      const uint64_t from = next->first;
      const uint64_t to = from + next->second;
      done_.erase(next);
      // Hashed without the lock: other threads keep reporting parts.
      mu_.Unlock();
      const bool ok = Hash(from, to);
      mu_.Lock();
      if (!ok) {
        failed_ = true;
        break;
      }
      hashed_ = to;
    }
    hashing_ = false;
  }
  mu_.Unlock();
}

std::optional<std::string> OrderedMd5::Finish(uint64_t size) {
  absl::MutexLock lock(&mu_);
  if (failed_ || hashing_ || hashed_ != size) return std::nullopt;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_.get(), digest, &n);
  failed_ = true;  // finished: a second Finish cannot reuse the context
  return HexEncode(std::string_view(reinterpret_cast<char*>(digest), n));
}

}  // namespace serval
