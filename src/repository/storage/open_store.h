// Turns a --model-repository argument into its ModelStore: s3://... is a
// bucket (credentials and region resolved once, here), anything else a
// local directory.
#ifndef SERVAL_REPOSITORY_STORAGE_OPEN_STORE_H_
#define SERVAL_REPOSITORY_STORAGE_OPEN_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "repository/model_store.h"
#include "repository/storage/aws_config.h"
#include "repository/storage/s3_client.h"
#include "repository/storage/s3_store.h"

namespace serval {

struct StoreOptions {
  S3ClientOptions s3;
  S3StoreOptions cache;  // cache_directory empty: a default under $HOME
  EnvLookup env = ProcessEnvironment();
  FileReader read = ReadWholeFile();
};

absl::StatusOr<std::shared_ptr<ModelStore>> OpenModelStore(
    const std::string& root, const StoreOptions& options);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_OPEN_STORE_H_
