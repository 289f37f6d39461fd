// An S3 response body (ListObjectsV2's ListBucketResult, or an Error
// document), as an S3-compatible server, or anything posing as one, sends
// it: parsing must never read out of bounds or recurse without bound, and
// what a page accepts must be usable (every object has a key; a truncated
// page names where to go on).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "repository/storage/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto page = serval::ParseListObjectsV2(xml);
  if (page.ok()) {
    for (const auto& object : page->objects) {
      if (object.key.empty()) __builtin_trap();
    }
    if (page->truncated && page->next_continuation_token.empty()) {
      __builtin_trap();
    }
  }
  serval::ParseS3Error(xml);
  return 0;
}
