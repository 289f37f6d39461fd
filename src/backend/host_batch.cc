#include "backend/host_batch.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backend/backend_model.h"
#include "common/absl_compat.h"
#include "common/clock.h"
#include "common/status_macros.h"

namespace serval {

HostBatch::HostBatch(const ModelSpec& io)
    : io_(io),
      input_buffers_(io.inputs.size()),
      output_buffers_(io.outputs.size()),
      input_shapes_(io.inputs.size()),
      inputs_(io.inputs.size()),
      requested_mask_(io.outputs.size(), false),
      allocated_(io.outputs.size()) {}

void HostBatch::Reset(std::span<const BatchEntry> entries) {
  entries_ = entries;
  times_ = BatchTimes{};
  total_batch_ = 0;
  entry_batch_.clear();
  entry_failures_.assign(entries.size(), absl::OkStatus());
  requested_.clear();
  requested_mask_.assign(io_.outputs.size(), false);
  allocated_.assign(io_.outputs.size(), Allocated{});
  absl::MutexLock lock(&mu_);
  completed_ = false;
  final_status_ = absl::OkStatus();
}

BatchResult HostBatch::Run(BackendInstance& instance,
                           std::span<const BatchEntry> entries) {
  Reset(entries);
  times_.start_ns = MonotonicNowNs();
  absl::Status gathered = Gather();
  if (gathered.ok()) {
    times_.input_end_ns = MonotonicNowNs();
    instance.Execute(this);
  } else {
    Complete(std::move(gathered));
  }
  // The plugins built here complete inside execute, so this rarely waits.
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&completed_));
  return {final_status_, times_};
}

int64_t HostBatch::EntryBatchSize(const BatchEntry& entry) const {
  if (!io_.batching() || entry.inputs.empty() ||
      entry.inputs[0].shape.empty()) {
    return 1;
  }
  return entry.inputs[0].shape[0];
}

bool HostBatch::EntryWants(const BatchEntry& entry,
                           const std::string& name) const {
  if (entry.requested_outputs.empty()) return true;
  for (const auto& r : entry.requested_outputs) {
    if (r == name) return true;
  }
  return false;
}

absl::Status HostBatch::Gather() {
  if (entries_.empty()) return absl::InternalError("empty batch");
  if (!io_.batching() && entries_.size() > 1) {
    return absl::InternalError("a non-batching model got several requests");
  }
  // The given inputs, in model order; optional inputs a request left out
  // are absent (requests batch together only with the same inputs).
  const size_t n = entries_[0].inputs.size();
  if (n > io_.inputs.size()) {
    return absl::InternalError("batch entry has more inputs than the model");
  }
  for (const auto& e : entries_) {
    if (e.inputs.size() != n) {
      return absl::InternalError("batch entries give different inputs");
    }
    entry_batch_.push_back(EntryBatchSize(e));
    total_batch_ += entry_batch_.back();
  }
  input_index_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto index = io_.InputIndex(entries_[0].inputs[i].name);
    if (!index.has_value()) {
      return absl::InternalError(absl::StrCat(
          "batch input '", entries_[0].inputs[i].name, "' is not declared"));
    }
    input_index_[i] = *index;
  }
  inputs_.resize(n);

  // Requested outputs: the union over entries, in model order.
  for (size_t o = 0; o < io_.outputs.size(); ++o) {
    for (const auto& e : entries_) {
      if (EntryWants(e, io_.outputs[o].name)) {
        requested_mask_[o] = true;
        break;
      }
    }
    if (requested_mask_[o]) requested_.push_back(io_.outputs[o].name.c_str());
  }
  for (const auto& e : entries_) {
    e.outputs->clear();
    e.outputs->reserve(io_.outputs.size());
  }

  if (entries_.size() == 1) {
    // Zero copy: the backend reads the request's own bytes.
    for (size_t i = 0; i < n; ++i) {
      const TensorView& v = entries_[0].inputs[i];
      const size_t mi = input_index_[i];
      input_shapes_[i] = io_.BackendInputShape(mi, v.shape);
      inputs_[i] = ServalTensor{io_.inputs[mi].name.c_str(),
                                static_cast<int32_t>(v.datatype),
                                input_shapes_[i].data(),
                                static_cast<uint32_t>(input_shapes_[i].size()),
                                v.data,
                                v.byte_size};
    }
    return absl::OkStatus();
  }

  // One contiguous buffer per input; the scheduler only batches requests
  // whose non-batch dims agree, so concatenation is the whole job.
  for (size_t i = 0; i < n; ++i) {
    size_t total_bytes = 0;
    for (const auto& e : entries_) total_bytes += e.inputs[i].byte_size;
    TensorBuffer& buf = input_buffers_[i];
    buf.Resize(total_bytes);
    size_t offset = 0;
    for (const auto& e : entries_) {
      if (e.inputs[i].byte_size > 0) {
        std::memcpy(buf.data() + offset, e.inputs[i].data,
                    e.inputs[i].byte_size);
      }
      offset += e.inputs[i].byte_size;
    }
    Shape batch_shape = entries_[0].inputs[i].shape;
    batch_shape[0] = total_batch_;
    const size_t mi = input_index_[i];
    input_shapes_[i] = io_.BackendInputShape(mi, batch_shape);
    inputs_[i] =
        ServalTensor{io_.inputs[mi].name.c_str(),
                     static_cast<int32_t>(entries_[0].inputs[i].datatype),
                     input_shapes_[i].data(),
                     static_cast<uint32_t>(input_shapes_[i].size()),
                     buf.data(),
                     total_bytes};
  }
  return absl::OkStatus();
}

void HostBatch::Inputs(const ServalTensor** inputs, uint32_t* count) const {
  *inputs = inputs_.data();
  *count = static_cast<uint32_t>(inputs_.size());
}

void HostBatch::RequestedOutputs(const char* const** names,
                                 uint32_t* count) const {
  *names = requested_.data();
  *count = static_cast<uint32_t>(requested_.size());
}

absl::Status HostBatch::OutputBuffer(const char* name, int32_t datatype,
                                     const int64_t* shape, uint32_t rank,
                                     uint64_t byte_size, void** buffer) {
  if (name == nullptr || buffer == nullptr || (rank > 0 && shape == nullptr)) {
    return absl::InvalidArgumentError("batch_output_buffer: null argument");
  }
  auto index = io_.OutputIndex(name);
  if (!index.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("backend produced output '", name,
                     "' which the model configuration does not declare"));
  }
  const TensorSpec& spec = io_.outputs[*index];
  if (datatype != static_cast<int32_t>(spec.datatype)) {
    auto got = DataTypeFromInt(datatype);
    return absl::InvalidArgumentError(absl::StrCat(
        "output '", name, "': configuration declares ",
        ToAbsl(ApiName(spec.datatype)), " but the backend produced ",
        got ? ToAbsl(ApiName(*got)) : absl::string_view("an invalid type")));
  }
  Shape s(shape, shape + rank);
  const Shape expected = io_.BackendOutputShape(*index);
  bool matches = ShapeMatches(expected, s);
  if (matches && io_.batching() && s[0] != total_batch_) matches = false;
  if (!matches) {
    Shape want = expected;
    if (io_.batching()) want[0] = total_batch_;
    return absl::InvalidArgumentError(absl::StrCat(
        "output '", name, "': backend produced shape ", ShapeToString(s),
        ", configuration expects ", ShapeToString(want)));
  }
  if (spec.datatype != DataType::kBytes) {
    ASSIGN_OR_RETURN(auto expected_bytes, ByteSize(spec.datatype, s));
    if (static_cast<uint64_t>(expected_bytes) != byte_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output '", name, "': byte size ", byte_size, " does not match ",
          expected_bytes, " for shape ", ShapeToString(s)));
    }
  }
  Allocated& a = allocated_[*index];
  if (a.allocated) {
    return absl::InvalidArgumentError(
        absl::StrCat("output '", name, "' allocated twice in one batch"));
  }
  a.allocated = true;
  a.shape = s;
  a.byte_size = byte_size;

  if (entries_.size() == 1) {
    // Zero copy: the backend writes straight into the response.
    OutputTensor out;
    out.name = spec.name;
    out.datatype = spec.datatype;
    out.shape = io_.ClientOutputShape(*index, s);
    out.data.Resize(byte_size);
    entries_[0].outputs->push_back(std::move(out));
    *buffer = entries_[0].outputs->back().data.data();
    return absl::OkStatus();
  }
  output_buffers_[*index].Resize(byte_size);
  *buffer = output_buffers_[*index].data();
  return absl::OkStatus();
}

void HostBatch::ReportTimes(uint64_t input_end_ns, uint64_t infer_end_ns) {
  if (input_end_ns != 0) times_.input_end_ns = input_end_ns;
  if (infer_end_ns != 0) times_.infer_end_ns = infer_end_ns;
}

absl::Status HostBatch::Scatter() {
  for (size_t o = 0; o < io_.outputs.size(); ++o) {
    if (requested_mask_[o] && !allocated_[o].allocated) {
      return absl::InternalError(
          absl::StrCat("backend completed the batch without producing output '",
                       io_.outputs[o].name, "'"));
    }
  }
  // BYTES outputs must hold exactly the elements their shape promises.
  for (size_t o = 0; o < io_.outputs.size(); ++o) {
    if (!allocated_[o].allocated ||
        io_.outputs[o].datatype != DataType::kBytes) {
      continue;
    }
    const char* data =
        entries_.size() == 1 ? nullptr : output_buffers_[o].data();
    if (entries_.size() == 1) {
      for (const auto& out : *entries_[0].outputs) {
        if (out.name == io_.outputs[o].name) data = out.data.data();
      }
    }
    auto count =
        CountBytesElements(std::string_view(data, allocated_[o].byte_size));
    auto want = ElementCount(allocated_[o].shape);
    if (!count.ok()) return count.status();
    if (!want.ok() || *count != *want) {
      return absl::InternalError(absl::StrCat(
          "BYTES output '", io_.outputs[o].name, "' holds ", *count,
          " elements, its shape ", ShapeToString(allocated_[o].shape),
          " needs ", want.ok() ? *want : -1));
    }
  }

  if (entries_.size() == 1) {
    // Drop outputs the backend produced that the request did not ask for.
    auto& outs = *entries_[0].outputs;
    std::erase_if(outs, [&](const OutputTensor& t) {
      return !EntryWants(entries_[0], t.name);
    });
    return absl::OkStatus();
  }

  for (size_t o = 0; o < io_.outputs.size(); ++o) {
    if (!allocated_[o].allocated) continue;
    const TensorSpec& spec = io_.outputs[o];
    const Allocated& a = allocated_[o];
    const char* src = output_buffers_[o].data();
    size_t offset = 0;
    const bool bytes = spec.datatype == DataType::kBytes;
    const int64_t per_item_elements =
        total_batch_ > 0 ? ElementCount(a.shape).value_or(0) / total_batch_ : 0;
    const uint64_t per_item_bytes =
        total_batch_ > 0 ? a.byte_size / total_batch_ : 0;
    for (size_t e = 0; e < entries_.size(); ++e) {
      size_t len;
      if (bytes) {
        // Walk the length prefixes of this entry's elements.
        size_t end = offset;
        for (int64_t k = 0; k < per_item_elements * entry_batch_[e]; ++k) {
          uint32_t l;
          std::memcpy(&l, src + end, 4);
          end += 4 + l;
        }
        len = end - offset;
      } else {
        len = per_item_bytes * entry_batch_[e];
      }
      if (entry_failures_[e].ok() && EntryWants(entries_[e], spec.name)) {
        OutputTensor out;
        out.name = spec.name;
        out.datatype = spec.datatype;
        Shape backend_shape = a.shape;
        backend_shape[0] = entry_batch_[e];
        out.shape = io_.ClientOutputShape(o, backend_shape);
        out.data.Resize(len);
        if (len > 0) std::memcpy(out.data.data(), src + offset, len);
        entries_[e].outputs->push_back(std::move(out));
      }
      offset += len;
    }
  }
  return absl::OkStatus();
}

uint64_t HostBatch::RequestItems(uint32_t index) const {
  if (index >= entries_.size()) return 0;
  return index < entry_batch_.size() ? entry_batch_[index]
                                     : EntryBatchSize(entries_[index]);
}

const char* HostBatch::RequestId(uint32_t index) const {
  if (index >= entries_.size() || entries_[index].id == nullptr) return "";
  return entries_[index].id->c_str();
}

const char* HostBatch::RequestParameters(uint32_t index) const {
  if (index >= entries_.size() || entries_[index].parameters_json == nullptr ||
      entries_[index].parameters_json->empty()) {
    return "{}";
  }
  return entries_[index].parameters_json->c_str();
}

uint64_t HostBatch::RequestTimeoutUs(uint32_t index) const {
  return index < entries_.size() ? entries_[index].timeout_us : 0;
}

uint64_t HostBatch::DeadlineNs() const {
  uint64_t earliest = 0;
  for (const BatchEntry& e : entries_) {
    if (e.deadline_ns != 0 && (earliest == 0 || e.deadline_ns < earliest)) {
      earliest = e.deadline_ns;
    }
  }
  return earliest;
}

void HostBatch::FailRequest(uint32_t index, absl::Status status) {
  if (index >= entry_failures_.size()) return;
  entry_failures_[index] = std::move(status);
}

void HostBatch::Complete(absl::Status status) {
  const uint64_t now = MonotonicNowNs();
  if (times_.input_end_ns == 0) times_.input_end_ns = now;
  if (times_.infer_end_ns == 0) times_.infer_end_ns = now;
  if (status.ok()) status = Scatter();
  if (!status.ok()) {
    for (auto& e : entries_) e.outputs->clear();
  } else {
    for (size_t e = 0; e < entries_.size(); ++e) {
      if (entry_failures_[e].ok()) continue;
      entries_[e].outputs->clear();
      if (entries_[e].status != nullptr) {
        *entries_[e].status = entry_failures_[e];
      }
    }
  }
  times_.end_ns = MonotonicNowNs();
  absl::MutexLock lock(&mu_);
  final_status_ = std::move(status);
  completed_ = true;
}

}  // namespace serval
