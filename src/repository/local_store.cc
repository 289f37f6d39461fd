// The local-directory ModelStore: listings read the file system when asked,
// fingerprints are the names, sizes and modification times of the files
// (model_fingerprint.h), and a model is already local.
#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "repository/model_fingerprint.h"
#include "repository/model_store.h"

namespace serval {
namespace {

namespace fs = std::filesystem;

absl::Status FromErrorCode(const std::error_code& ec) {
  return absl::Status(absl::ErrnoToStatusCode(ec.value()), ec.message());
}

absl::Status FromErrorCode(const std::error_code& ec, std::string_view what) {
  return absl::Status(absl::ErrnoToStatusCode(ec.value()),
                      absl::StrCat(ToAbsl(what), ": ", ec.message()));
}

ListingEntry::Kind KindOf(const fs::path& path) {
  std::error_code ec;  // A dangling symlink is simply "other".
  const fs::file_status status = fs::status(path, ec);
  if (fs::is_directory(status)) return ListingEntry::Kind::kDirectory;
  if (fs::is_regular_file(status)) return ListingEntry::Kind::kFile;
  return ListingEntry::Kind::kOther;
}

class LocalListing : public RepositoryListing {
 public:
  explicit LocalListing(std::string root) : root_(std::move(root)) {}

  absl::StatusOr<std::vector<ListingEntry>> List(
      std::string_view dir) const override {
    const fs::path path = dir.empty() ? fs::path(root_) : fs::path(root_) / dir;
    std::error_code ec;
    fs::directory_iterator it(path, ec);
    if (ec) return FromErrorCode(ec);
    std::vector<ListingEntry> entries;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      entries.push_back({it->path().filename().string(), KindOf(it->path())});
    }
    if (ec) return FromErrorCode(ec);
    // Sorted, so problems are reported in a reproducible order.
    std::sort(entries.begin(), entries.end(),
              [](const ListingEntry& a, const ListingEntry& b) {
                return a.name < b.name;
              });
    return entries;
  }

  std::string PathOf(std::string_view relative) const override {
    if (relative.empty()) return root_;
    return (fs::path(root_) / relative).string();
  }

  absl::StatusOr<uint64_t> Fingerprint(
      const ScannedModel& model) const override {
    return FingerprintModelDirectory(model.path);
  }

  absl::StatusOr<LocalModel> Localize(
      const ScannedModel& model) const override {
    LocalModel local{model, nullptr};
    local.model.listing = nullptr;
    return local;
  }

 private:
  const std::string root_;
};

class LocalStore : public ModelStore {
 public:
  explicit LocalStore(std::string root) : root_(std::move(root)) {}

  const std::string& root() const override { return root_; }

  absl::StatusOr<std::string> Identity() const override {
    RETURN_IF_ERROR(Check());
    std::error_code ec;
    fs::path canonical = fs::canonical(root_, ec);
    if (ec) return FromErrorCode(ec, What());
    return canonical.string();
  }

  absl::StatusOr<std::shared_ptr<const RepositoryListing>> List()
      const override {
    RETURN_IF_ERROR(Check());
    return std::make_shared<LocalListing>(root_);
  }

 private:
  std::string What() const {
    return absl::StrCat("model repository '", root_, "'");
  }

  absl::Status Check() const {
    std::error_code ec;
    const fs::file_status status = fs::status(root_, ec);
    if (ec || !fs::exists(status)) {
      if (!ec || ec == std::errc::no_such_file_or_directory) {
        return absl::NotFoundError(absl::StrCat(What(), " does not exist"));
      }
      return FromErrorCode(ec, What());
    }
    if (!fs::is_directory(status)) {
      return absl::InvalidArgumentError(
          absl::StrCat(What(), " is not a directory"));
    }
    return absl::OkStatus();
  }

  const std::string root_;
};

}  // namespace

std::shared_ptr<ModelStore> MakeLocalStore(std::string root) {
  return std::make_shared<LocalStore>(std::move(root));
}

}  // namespace serval
