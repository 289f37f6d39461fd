#include "backend/sync_runner.h"

#include "absl/strings/str_cat.h"
#include "backend/host_batch.h"

namespace serval {

absl::StatusOr<std::vector<OutputTensor>> RunBatchSync(
    BackendInstance& instance, std::vector<TensorView> inputs,
    std::vector<std::string> requested_outputs) {
  const ModelSpec& io = instance.model().io();
  std::vector<TensorView> ordered(io.inputs.size());
  std::vector<bool> seen(io.inputs.size(), false);
  for (auto& in : inputs) {
    auto idx = io.InputIndex(in.name);
    if (!idx.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown input '", in.name, "'"));
    }
    seen[*idx] = true;
    ordered[*idx] = std::move(in);
  }
  std::vector<TensorView> present;
  for (size_t i = 0; i < seen.size(); ++i) {
    if (seen[i]) {
      present.push_back(std::move(ordered[i]));
    } else if (!io.inputs[i].optional) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing input '", io.inputs[i].name, "'"));
    }
  }
  std::vector<OutputTensor> outputs;
  BatchEntry entry;
  entry.inputs = std::move(present);
  entry.requested_outputs = requested_outputs;
  entry.outputs = &outputs;
  HostBatch batch(io);
  BatchResult result =
      batch.Run(instance, std::span<const BatchEntry>(&entry, 1));
  if (!result.status.ok()) return result.status;
  return outputs;
}

}  // namespace serval
