// config.pbtxt text: parsed (protobuf text format, every error reported),
// then completed, validated and turned into a serving spec.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config_parser.h"
#include "fuzz_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<inference::ModelConfig> config =
      serval::ParseModelConfigText(text, "config.pbtxt");
  if (config.ok()) serval::fuzz::FinalizeAndBuild(*std::move(config));
  return 0;
}
