// Where an s3:// repository is: the forms --model-repository accepts.
//   s3://bucket/prefix                       AWS, the region's endpoint, HTTPS
//   s3://http://host:port/bucket/prefix      an S3-compatible server
//   s3://https://host:port/bucket/prefix
//   s3://host:port/bucket/prefix             (Triton's form; HTTP)
#ifndef SERVAL_REPOSITORY_STORAGE_S3_LOCATION_H_
#define SERVAL_REPOSITORY_STORAGE_S3_LOCATION_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace serval {

struct S3Location {
  bool tls = true;
  // Empty for AWS: the host follows from the region and the bucket.
  std::string host;
  std::string port;  // "443" / "80" when not given
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; may be empty

  bool custom_endpoint() const { return !host.empty(); }
  // s3://[scheme://host:port/]bucket[/prefix], normalized.
  std::string ToString() const;
};

bool IsS3Url(std::string_view root);
absl::StatusOr<S3Location> ParseS3Location(std::string_view url);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_S3_LOCATION_H_
