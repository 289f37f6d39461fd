#include "config/config_parser.h"

#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace serval {
namespace {

// Collects every problem the text-format parser reports, formatted with a
// 1-based line and column as compilers do, so editors can jump to them.
class PathErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit PathErrorCollector(std::string_view path) : path_(path) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(
        absl::StrCat(path_, ":", line + 1, ":", column + 1, ": ", message));
  }

  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string path_;
  std::vector<std::string> errors_;
};

}  // namespace

absl::StatusOr<inference::ModelConfig> ParseModelConfigText(
    std::string_view text, std::string_view path) {
  PathErrorCollector collector(path);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  inference::ModelConfig config;
  const bool ok = parser.ParseFromString(std::string(text), &config);
  if (!ok || !collector.errors().empty()) {
    if (collector.errors().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(path), ": cannot parse model configuration"));
    }
    return absl::InvalidArgumentError(absl::StrJoin(collector.errors(), "; "));
  }
  return config;
}

absl::StatusOr<std::optional<inference::ModelConfig>> ReadModelConfig(
    const std::filesystem::path& model_dir) {
  const std::filesystem::path file = model_dir / kConfigFileName;
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return std::optional<inference::ModelConfig>();
  }
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.string(), ": cannot access: ", ec.message()));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.string(), ": is not a regular file"));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.string(), ": cannot open for reading"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.string(), ": read failed"));
  }
  absl::StatusOr<inference::ModelConfig> config =
      ParseModelConfigText(contents.str(), file.string());
  if (!config.ok()) return config.status();
  return std::optional<inference::ModelConfig>(*std::move(config));
}

}  // namespace serval
