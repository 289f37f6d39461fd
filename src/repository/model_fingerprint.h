// Cheap change detection for a model directory, for the repository poll
// mode: a hash of the names, sizes and modification times of the files that
// make up a model, without reading any file's contents.
#ifndef SERVAL_REPOSITORY_MODEL_FINGERPRINT_H_
#define SERVAL_REPOSITORY_MODEL_FINGERPRINT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace serval {

// FNV-1a over typed fields: stable across processes and runs, for change
// detection (not for security).
class StableHash {
 public:
  void Add(const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
      hash_ = (hash_ ^ bytes[i]) * 0x100000001b3ULL;
    }
  }
  void AddString(std::string_view s) {
    AddInt(s.size());  // Length first, so "ab"+"c" differs from "a"+"bc".
    Add(s.data(), s.size());
  }
  void AddInt(uint64_t v) { Add(&v, sizeof(v)); }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// Hashes (FNV-1a, stable across processes) the relative path, type, size and
// mtime of: every regular file directly in `model_dir` (config.pbtxt, label
// files), and every entry, recursively, under its numeric version
// directories. Adding or removing a version directory, or touching, resizing,
// renaming or replacing a file there, changes the result; other entries are
// ignored, as the scan ignores them. A file rewritten with the same size
// within the file system's timestamp resolution goes unnoticed (the price of
// not reading contents). Thread-safe (stateless).
absl::StatusOr<uint64_t> FingerprintModelDirectory(std::string_view model_dir);

// Turns successive fingerprints of models into decisions. A changed model is
// reported only when two consecutive polls see the same new fingerprint, so
// a model that is still being copied in is not loaded half-written.
// Not thread-safe: owned and used by the one poll thread.
class ChangeDebouncer {
 public:
  enum class Verdict {
    kUnchanged,  // Same as the accepted fingerprint.
    kSettling,   // Differs, but not yet seen twice in a row.
    kChanged,    // Differs and stable: act on it. It is now accepted.
  };

  // Records the fingerprint the loaded model corresponds to.
  void Accept(const std::string& model, uint64_t fingerprint);
  // Judges a fresh fingerprint. A model never accepted counts as changed
  // (once it has settled).
  Verdict Observe(const std::string& model, uint64_t fingerprint);
  // Drops everything known about a model (it was removed or unloaded).
  void Forget(const std::string& model);

 private:
  struct State {
    bool has_accepted = false;
    uint64_t accepted = 0;
    bool has_pending = false;
    uint64_t pending = 0;
  };
  absl::flat_hash_map<std::string, State> states_;
};

}  // namespace serval

#endif  // SERVAL_REPOSITORY_MODEL_FINGERPRINT_H_
