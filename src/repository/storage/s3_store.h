// A model repository in an S3 bucket (or any S3-compatible store).
//
// List() is one ListObjectsV2 pass over the prefix (paginated), whatever
// the number of models; the scan and the poller's fingerprints (keys, ETags
// and sizes) read that one listing. Localize() makes a model's files local
// through a content cache: every object is stored once under its ETag and
// size, so a model version downloads once, an unchanged model reloads
// with 0 bytes downloaded, and a changed file downloads alone. Objects
// download in parts (ranged GETs, in parallel), into temporary files that
// are checked (size; MD5 where the ETag is one) and only then renamed into
// the cache; the model's directory is built from hard links in a fresh
// directory and handed over complete, so a partial download never loads.
// Thread-safe.
#ifndef SERVAL_REPOSITORY_STORAGE_S3_STORE_H_
#define SERVAL_REPOSITORY_STORAGE_S3_STORE_H_

#include <memory>
#include <string>

#include "repository/model_store.h"
#include "repository/storage/s3_client.h"

namespace serval {

struct S3StoreOptions {
  // The content cache; created when missing.
  std::string cache_directory;
  int download_threads = 8;
  uint64_t part_bytes = 8 << 20;
};

std::shared_ptr<ModelStore> MakeS3Store(std::string root,
                                        std::shared_ptr<S3Client> client,
                                        S3StoreOptions options);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_S3_STORE_H_
