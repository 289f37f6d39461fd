#include "repository/storage/s3_store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "repository/model_fingerprint.h"
#include "repository/storage/crypto.h"
#include "repository/storage/ordered_md5.h"
#include "spdlog/spdlog.h"

namespace serval {
namespace {

namespace fs = std::filesystem;

// A relative key whose every segment can be a file name: no empty, "." or
// ".." segment, so no key can name a path outside the cache.
bool SafeRelativeKey(std::string_view key) {
  for (absl::string_view part : absl::StrSplit(ToAbsl(key), '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

// The object's cache name: its ETag (hex digits and '-' only) and size.
std::string BlobName(const S3Object& o) {
  std::string tag;
  for (char c : o.etag) {
    if (absl::ascii_isalnum(c) || c == '-') tag.push_back(c);
  }
  return absl::StrCat(tag.empty() ? "none" : tag, "-", o.size);
}

bool IsMd5(std::string_view etag) {
  return etag.size() == 32 && std::all_of(etag.begin(), etag.end(), [](char c) {
           return absl::ascii_isxdigit(c);
         });
}

// Removes a directory tree when the last user lets go.
struct OwnedTree {
  explicit OwnedTree(std::string p) : path(std::move(p)) {}
  ~OwnedTree() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

class S3Listing : public RepositoryListing {
 public:
  S3Listing(std::string root, std::shared_ptr<S3Client> client,
            S3StoreOptions options, std::map<std::string, S3Object> objects)
      : root_(std::move(root)),
        client_(std::move(client)),
        options_(std::move(options)),
        objects_(std::move(objects)) {
    dirs_[""];
    for (const auto& [rel, object] : objects_) {
      std::string parent;
      std::vector<std::string> parts = absl::StrSplit(rel, '/');
      for (size_t i = 0; i < parts.size(); ++i) {
        const bool last = i + 1 == parts.size();
        auto& slot = dirs_[parent][parts[i]];
        slot =
            last ? ListingEntry::Kind::kFile : ListingEntry::Kind::kDirectory;
        parent =
            parent.empty() ? parts[i] : absl::StrCat(parent, "/", parts[i]);
        if (!last) dirs_[parent];
      }
    }
  }

  absl::StatusOr<std::vector<ListingEntry>> List(
      std::string_view dir) const override {
    auto it = dirs_.find(std::string(dir));
    if (it == dirs_.end()) {
      return absl::NotFoundError("no such directory in the listing");
    }
    std::vector<ListingEntry> out;
    for (const auto& [name, kind] : it->second) out.push_back({name, kind});
    return out;
  }

  std::string PathOf(std::string_view relative) const override {
    if (relative.empty()) return root_;
    return absl::StrCat(root_, "/", ToAbsl(relative));
  }

  absl::StatusOr<uint64_t> Fingerprint(
      const ScannedModel& model) const override {
    StableHash hash;
    size_t n = 0;
    for (const auto& [rel, object] : ModelObjects(model)) {
      hash.AddString(rel);
      hash.AddString(object->etag);
      hash.AddInt(object->size);
      ++n;
    }
    hash.AddInt(n);
    return hash.value();
  }

  absl::StatusOr<LocalModel> Localize(const ScannedModel& model) const override;

 private:
  // The objects that make up a model, by path relative to the model: its
  // top-level files and everything under its version directories (what
  // the local fingerprint covers too).
  std::vector<std::pair<std::string, const S3Object*>> ModelObjects(
      const ScannedModel& model) const {
    std::vector<std::pair<std::string, const S3Object*>> out;
    const std::string prefix = model.name + "/";
    for (auto it = objects_.lower_bound(prefix);
         it != objects_.end() && absl::StartsWith(it->first, prefix); ++it) {
      const std::string rel = it->first.substr(prefix.size());
      const size_t slash = rel.find('/');
      if (slash != std::string::npos) {
        const std::string top = rel.substr(0, slash);
        if (std::find(model.version_dirs.begin(), model.version_dirs.end(),
                      top) == model.version_dirs.end()) {
          continue;
        }
      }
      out.emplace_back(rel, &it->second);
    }
    return out;
  }

  absl::Status Download(const std::vector<const S3Object*>& missing) const;

  const std::string root_;
  const std::shared_ptr<S3Client> client_;
  const S3StoreOptions options_;
  // Key relative to the prefix -> object.
  const std::map<std::string, S3Object> objects_;
  std::map<std::string, std::map<std::string, ListingEntry::Kind>> dirs_;
};

absl::Status S3Listing::Download(
    const std::vector<const S3Object*>& missing) const {
  const fs::path cache(options_.cache_directory);
  struct Blob {
    const S3Object* object;
    std::string temp;
    int fd = -1;
    // The ETag's MD5, taken as the parts arrive (null: not an MD5 ETag).
    std::unique_ptr<OrderedMd5> md5;
  };
  struct Part {
    size_t blob;
    uint64_t offset, length;
  };
  std::vector<Blob> blobs;
  std::vector<Part> parts;
  for (const S3Object* o : missing) {
    std::string temp =
        (cache / "tmp" / absl::StrCat(BlobName(*o), ".XXXXXX")).string();
    const int fd = mkstemp(temp.data());
    if (fd < 0) {
      for (Blob& b : blobs) {
        close(b.fd);
        unlink(b.temp.c_str());
      }
      return absl::InternalError(
          absl::StrCat("cannot create a file in the cache ", cache.string(),
                       ": ", strerror(errno)));
    }
    blobs.push_back(
        {o, temp, fd,
         IsMd5(o->etag) ? std::make_unique<OrderedMd5>(fd) : nullptr});
    for (uint64_t off = 0; off < o->size; off += options_.part_bytes) {
      parts.push_back({blobs.size() - 1, off,
                       std::min<uint64_t>(options_.part_bytes, o->size - off)});
    }
  }
  std::atomic<size_t> next{0};
  absl::Mutex mu;
  absl::Status failure;
  auto work = [&] {
    for (;;) {
      {
        absl::MutexLock lock(&mu);
        if (!failure.ok()) return;
      }
      const size_t i = next.fetch_add(1);
      if (i >= parts.size()) return;
      const Part& p = parts[i];
      const Blob& b = blobs[p.blob];
      // Straight into the file: a range never sits whole in memory.
      absl::Status s = client_->GetRange(
          b.object->key, p.offset, p.length,
          [&](uint64_t position, std::string_view bytes) -> absl::Status {
            const off_t at = static_cast<off_t>(p.offset + position);
            if (pwrite(b.fd, bytes.data(), bytes.size(), at) !=
                static_cast<ssize_t>(bytes.size())) {
              return absl::InternalError(
                  absl::StrCat("cannot write to the cache ", cache.string(),
                               ": ", strerror(errno)));
            }
            return absl::OkStatus();
          });
      if (!s.ok()) {
        absl::MutexLock lock(&mu);
        if (failure.ok()) failure = s;
        return;
      }
      if (b.md5 != nullptr) b.md5->Done(p.offset, p.length);
    }
  };
  const size_t threads =
      std::min<size_t>(std::max(1, options_.download_threads),
                       std::max<size_t>(1, parts.size()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();

  absl::Status status = failure;
  for (Blob& b : blobs) {
    // No fsync: the cache can always be downloaded again, and syncing
    // 100 MB costs more than the download on loopback.
    close(b.fd);
    if (status.ok()) {
      std::error_code ec;
      if (fs::file_size(b.temp, ec) != b.object->size || ec) {
        status = absl::DataLossError(absl::StrCat(
            "'", b.object->key, "' in ", client_->location().ToString(),
            " downloaded with the wrong size"));
      } else if (b.md5 != nullptr) {
        // Hashed during the download; read again only when that could
        // not finish.
        std::optional<std::string> streamed = b.md5->Finish(b.object->size);
        absl::StatusOr<std::string> md5 =
            streamed.has_value() ? *std::move(streamed) : Md5FileHex(b.temp);
        if (!md5.ok() || *md5 != absl::AsciiStrToLower(b.object->etag)) {
          status = absl::DataLossError(absl::StrCat(
              "'", b.object->key, "' in ", client_->location().ToString(),
              " does not match its ETag after download (MD5 ",
              md5.ok() ? *md5 : "unreadable", ", ETag ", b.object->etag,
              "): it changed during the download or was corrupted"));
        }
      }
    }
    if (status.ok()) {
      std::error_code ec;
      fs::rename(b.temp, cache / "objects" / BlobName(*b.object), ec);
      if (ec) {
        status = absl::InternalError(
            absl::StrCat("cannot fill the cache: ", ec.message()));
      }
    }
    if (!status.ok()) unlink(b.temp.c_str());
  }
  return status;
}

absl::StatusOr<LocalModel> S3Listing::Localize(
    const ScannedModel& model) const {
  const auto started = std::chrono::steady_clock::now();
  const fs::path cache(options_.cache_directory);
  const auto objects = ModelObjects(model);
  std::vector<const S3Object*> missing;
  uint64_t cached_bytes = 0, missing_bytes = 0;
  std::set<std::string> seen;
  for (const auto& [rel, o] : objects) {
    std::error_code ec;
    const fs::path blob = cache / "objects" / BlobName(*o);
    if (fs::exists(blob, ec) && fs::file_size(blob, ec) == o->size && !ec) {
      cached_bytes += o->size;
    } else if (seen.insert(BlobName(*o)).second) {
      missing.push_back(o);
      missing_bytes += o->size;
    }
  }
  if (!missing.empty()) {
    if (absl::Status s = Download(missing); !s.ok()) return s;
  }
  // The model's directory: hard links to the cached objects, built under
  // a hidden name and renamed when complete.
  std::string building =
      (cache / "models" / absl::StrCat(".building-", model.name, "-XXXXXX"))
          .string();
  if (mkdtemp(building.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create a directory in the cache ", cache.string(),
                     ": ", strerror(errno)));
  }
  auto fail = [&](const std::string& what) {
    std::error_code ec;
    fs::remove_all(building, ec);
    return absl::InternalError(what);
  };
  for (const auto& [rel, o] : objects) {
    const fs::path target = fs::path(building) / rel;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return fail(absl::StrCat("cannot fill the cache: ", ec.message()));
    const fs::path blob = cache / "objects" / BlobName(*o);
    fs::create_hard_link(blob, target, ec);
    if (ec) {
      ec.clear();
      fs::copy_file(blob, target, ec);
      if (ec)
        return fail(absl::StrCat("cannot fill the cache: ", ec.message()));
    }
  }
  for (const std::string& dir : model.version_dirs) {
    std::error_code ec;  // An empty version directory has no objects.
    fs::create_directories(fs::path(building) / dir, ec);
  }
  const std::string leaf = fs::path(building).filename().string();
  const fs::path ready =
      cache / "models" / leaf.substr(std::string_view(".building-").size());
  std::error_code ec;
  fs::rename(building, ready, ec);
  if (ec) return fail(absl::StrCat("cannot fill the cache: ", ec.message()));

  spdlog::info(
      "model '{}' from {}: {} files, {} bytes downloaded, {} bytes from the "
      "cache, in {} ms",
      model.name, PathOf(model.name), objects.size(), missing_bytes,
      cached_bytes,
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started)
          .count());
  LocalModel local;
  local.model = model;
  local.model.listing = nullptr;
  local.model.path = ready.string();
  local.model.config_path = (ready / kModelConfigFileName).string();
  local.owner = std::make_shared<OwnedTree>(ready.string());
  return local;
}

class S3Store : public ModelStore {
 public:
  S3Store(std::string root, std::shared_ptr<S3Client> client,
          S3StoreOptions options)
      : root_(std::move(root)),
        client_(std::move(client)),
        options_(std::move(options)) {}

  const std::string& root() const override { return root_; }

  absl::StatusOr<std::string> Identity() const override {
    return client_->location().ToString();
  }

  absl::StatusOr<std::shared_ptr<const RepositoryListing>> List()
      const override {
    const fs::path cache(options_.cache_directory);
    std::error_code ec;
    for (const char* sub : {"objects", "tmp", "models"}) {
      fs::create_directories(cache / sub, ec);
      if (ec) {
        return absl::InternalError(
            absl::StrCat("cannot create the model cache directory ",
                         (cache / sub).string(), ": ", ec.message()));
      }
    }
    const std::string& prefix = client_->location().prefix;
    const std::string list_prefix = prefix.empty() ? "" : prefix + "/";
    ASSIGN_OR_RETURN(std::vector<S3Object> objects,
                     client_->ListObjects(list_prefix));
    std::map<std::string, S3Object> relative;
    for (S3Object& o : objects) {
      std::string rel = o.key.substr(list_prefix.size());
      if (absl::EndsWith(rel, "/")) continue;  // a "directory" marker
      if (!SafeRelativeKey(rel)) {
        spdlog::warn(
            "{}: ignoring object '{}' (an empty, '.' or '..' path "
            "segment)",
            root_, o.key);
        continue;
      }
      relative.emplace(std::move(rel), std::move(o));
    }
    return std::make_shared<S3Listing>(client_->location().ToString(), client_,
                                       options_, std::move(relative));
  }

 private:
  const std::string root_;
  const std::shared_ptr<S3Client> client_;
  const S3StoreOptions options_;
};

}  // namespace

std::shared_ptr<ModelStore> MakeS3Store(std::string root,
                                        std::shared_ptr<S3Client> client,
                                        S3StoreOptions options) {
  return std::make_shared<S3Store>(std::move(root), std::move(client),
                                   std::move(options));
}

}  // namespace serval
