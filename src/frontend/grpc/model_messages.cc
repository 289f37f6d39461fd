#include "frontend/grpc/model_messages.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tensor/datatype.h"

namespace serval {
namespace {

using inference::ModelRepositoryParameter;

void FillTensor(const TensorMetadata& in,
                inference::ModelMetadataResponse::TensorMetadata* out) {
  out->set_name(in.name);
  out->set_datatype(std::string(ApiName(in.datatype)));
  for (int64_t d : in.shape) out->add_shape(d);
}

void FillDuration(const DurationStat& in, inference::StatisticDuration* out) {
  out->set_count(in.count);
  out->set_ns(in.ns);
}

}  // namespace

void FillModelMetadata(const ModelMetadata& metadata,
                       inference::ModelMetadataResponse* response) {
  response->set_name(metadata.name);
  for (const std::string& v : metadata.versions) response->add_versions(v);
  response->set_platform(metadata.platform);
  for (const TensorMetadata& t : metadata.inputs) {
    FillTensor(t, response->add_inputs());
  }
  for (const TensorMetadata& t : metadata.outputs) {
    FillTensor(t, response->add_outputs());
  }
}

void FillModelStatistics(const std::vector<ModelStatistics>& stats,
                         inference::ModelStatisticsResponse* response) {
  for (const ModelStatistics& s : stats) {
    inference::ModelStatistics* out = response->add_model_stats();
    out->set_name(s.name);
    out->set_version(s.version);
    out->set_last_inference(s.last_inference_ms);
    out->set_inference_count(s.inference_count);
    out->set_execution_count(s.execution_count);
    inference::InferStatistics* is = out->mutable_inference_stats();
    FillDuration(s.inference_stats.success, is->mutable_success());
    FillDuration(s.inference_stats.fail, is->mutable_fail());
    FillDuration(s.inference_stats.queue, is->mutable_queue());
    FillDuration(s.inference_stats.compute_input, is->mutable_compute_input());
    FillDuration(s.inference_stats.compute_infer, is->mutable_compute_infer());
    FillDuration(s.inference_stats.compute_output,
                 is->mutable_compute_output());
    for (const BatchStatistics& b : s.batch_stats) {
      inference::InferBatchStatistics* bs = out->add_batch_stats();
      bs->set_batch_size(b.batch_size);
      FillDuration(b.compute_input, bs->mutable_compute_input());
      FillDuration(b.compute_infer, bs->mutable_compute_infer());
      FillDuration(b.compute_output, bs->mutable_compute_output());
    }
    if (s.memory_bytes >= 0) {
      inference::MemoryUsage* m = out->add_memory_usage();
      m->set_type("CPU");
      m->set_id(0);
      m->set_byte_size(static_cast<uint64_t>(s.memory_bytes));
    }
  }
}

void FillRepositoryIndex(const std::vector<RepositoryEntry>& entries,
                         inference::RepositoryIndexResponse* response) {
  for (const RepositoryEntry& e : entries) {
    auto* m = response->add_models();
    m->set_name(e.name);
    m->set_version(e.version);
    m->set_state(e.state);
    m->set_reason(e.reason);
  }
}

absl::StatusOr<LoadOptions> ReadLoadOptions(
    const inference::RepositoryModelLoadRequest& request) {
  constexpr absl::string_view kFilePrefix = "file:";
  LoadOptions options;
  for (const auto& [key, value] : request.parameters()) {
    if (key == "config") {
      if (value.parameter_choice_case() !=
          ModelRepositoryParameter::kStringParam) {
        return absl::InvalidArgumentError(
            "load parameter 'config' must be a string_param holding JSON");
      }
      options.config_json = value.string_param();
    } else if (absl::StartsWith(key, kFilePrefix)) {
      if (value.parameter_choice_case() !=
          ModelRepositoryParameter::kBytesParam) {
        return absl::InvalidArgumentError(
            absl::StrCat("load parameter '", key, "' must be a bytes_param"));
      }
      options.files[key.substr(kFilePrefix.size())] = value.bytes_param();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown load parameter '", key,
                       "'; expected 'config' or 'file:<version>/<path>'"));
    }
  }
  if (!options.files.empty() && options.config_json.empty()) {
    return absl::InvalidArgumentError(
        "load parameters with files need a 'config' parameter as well");
  }
  return options;
}

absl::StatusOr<bool> ReadUnloadDependents(
    const inference::RepositoryModelUnloadRequest& request) {
  bool unload_dependents = false;
  for (const auto& [key, value] : request.parameters()) {
    if (key != "unload_dependents") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown unload parameter '", key,
                       "'; expected 'unload_dependents'"));
    }
    if (value.parameter_choice_case() != ModelRepositoryParameter::kBoolParam) {
      return absl::InvalidArgumentError(
          "unload parameter 'unload_dependents' must be a bool_param");
    }
    unload_dependents = value.bool_param();
  }
  return unload_dependents;
}

}  // namespace serval
