#include "repository/storage/open_store.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "repository/storage/s3_location.h"
#include "spdlog/spdlog.h"

namespace serval {

absl::StatusOr<std::shared_ptr<ModelStore>> OpenModelStore(
    const std::string& root, const StoreOptions& options) {
  if (!IsS3Url(root)) return MakeLocalStore(root);
  ASSIGN_OR_RETURN(S3Location location, ParseS3Location(root));
  ASSIGN_OR_RETURN(AwsConfig config,
                   ResolveAwsConfig(options.env, options.read));
  S3ClientOptions s3 = options.s3;
  if (s3.ca_file.empty())
    s3.ca_file = options.env("AWS_CA_BUNDLE").value_or("");
  S3StoreOptions cache = options.cache;
  if (cache.cache_directory.empty()) {
    const std::string base =
        options.env("XDG_CACHE_HOME")
            .value_or(options.env("HOME").value_or("/tmp") + "/.cache");
    cache.cache_directory = absl::StrCat(base, "/serval/models");
  }
  // The key id is not secret and tells which credentials are in use; the
  // secret and the token are never logged.
  spdlog::info(
      "model repository {}: credentials from {}{}{}, region {}, cache {}",
      location.ToString(), config.credentials_source,
      config.credentials.empty() ? "" : ", key id ",
      config.credentials.access_key_id, config.region, cache.cache_directory);
  auto client = std::make_shared<S3Client>(location, config, s3);
  return MakeS3Store(root, std::move(client), cache);
}

}  // namespace serval
