#include "backend/sync_runner.h"

#include <future>

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
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing input '", io.inputs[i].name, "'"));
    }
  }
  std::vector<OutputTensor> outputs;
  BatchScratch scratch;
  std::promise<absl::Status> done;
  auto future = done.get_future();
  std::vector<BatchEntry> entries(1);
  entries[0].inputs = ordered;
  entries[0].requested_outputs = requested_outputs;
  entries[0].outputs = &outputs;
  HostBatch::Run(instance, io, &scratch, std::move(entries),
                 [&done](absl::Status s, const BatchTimes&) {
                   done.set_value(std::move(s));
                 });
  absl::Status s = future.get();
  if (!s.ok()) return s;
  return outputs;
}

}  // namespace serval
