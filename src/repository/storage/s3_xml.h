// The two S3 response bodies serval reads: ListObjectsV2's
// ListBucketResult and the Error document. A small XML reader of its own
// (elements, text, the five entities and numeric character references;
// declarations, comments and attributes skipped), bounded in depth, for
// bytes that come from the network.
#ifndef SERVAL_REPOSITORY_STORAGE_S3_XML_H_
#define SERVAL_REPOSITORY_STORAGE_S3_XML_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace serval {

struct S3Object {
  std::string key;
  std::string etag;  // without the quotes
  uint64_t size = 0;
};

struct S3ListPage {
  std::vector<S3Object> objects;
  bool truncated = false;
  std::string next_continuation_token;
};

struct S3Error {
  std::string code;  // "NoSuchBucket", "SignatureDoesNotMatch", ...
  std::string message;
};

absl::StatusOr<S3ListPage> ParseListObjectsV2(std::string_view xml);
// An unreadable body gives an empty code and message.
S3Error ParseS3Error(std::string_view xml);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_S3_XML_H_
