#include "server/output_options.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/classification.h"

namespace serval {

absl::Status ApplyOutputOptions(
    const std::vector<OutputOptions>& options, bool batching,
    absl::FunctionRef<const std::vector<std::string>&(std::string_view)>
        labels_of,
    std::vector<OutputTensor>* outputs) {
  for (const OutputOptions& o : options) {
    OutputTensor* out = nullptr;
    for (OutputTensor& t : *outputs) {
      if (t.name == o.name) out = &t;
    }
    if (out == nullptr) continue;  // not produced: the request failed
    if (o.classification > 0) {
      ASSIGN_OR_RETURN(
          *out, Classify(*out, o.classification, batching, labels_of(o.name)));
    }
    if (o.shared_memory != nullptr) {
      if (out->data.size() > o.shared_memory_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "shared memory size specified with the request for output '",
            o.name, "' (", o.shared_memory_size, " bytes) should be at least ",
            out->data.size(), " bytes to hold the results"));
      }
      if (out->data.size() > 0) {
        std::memcpy(o.shared_memory, out->data.data(), out->data.size());
      }
      out->data = TensorBuffer();
      out->in_shared_memory = true;
    }
  }
  return absl::OkStatus();
}

}  // namespace serval
