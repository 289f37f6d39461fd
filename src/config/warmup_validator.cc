#include "config/warmup_validator.h"

#include <string>

namespace serval {
namespace {

const inference::ModelInput* FindInput(const inference::ModelConfig& config,
                                       const std::string& name) {
  for (const inference::ModelInput& input : config.input()) {
    if (input.name() == name) return &input;
  }
  return nullptr;
}

std::string JoinDims(const google::protobuf::RepeatedField<int64_t>& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

// Sample dims must be concrete and fit the declared dims (-1 = any size).
bool DimsFit(const google::protobuf::RepeatedField<int64_t>& declared,
             const google::protobuf::RepeatedField<int64_t>& sample) {
  if (declared.size() != sample.size()) return false;
  for (int i = 0; i < sample.size(); ++i) {
    if (sample[i] < 1) return false;
    if (declared[i] != -1 && declared[i] != sample[i]) return false;
  }
  return true;
}

void ValidateSampleInput(const inference::ModelConfig& config,
                         const std::string& path, const std::string& name,
                         const inference::ModelWarmup::Input& sample,
                         ValidationProblems* problems) {
  const inference::ModelInput* input = FindInput(config, name);
  if (input == nullptr) {
    problems->Add(path,
                  "is not an input of the model; expected one of the "
                  "declared input names");
    return;
  }
  if (sample.data_type() != input->data_type()) {
    problems->Add(
        path + ".data_type",
        absl::StrCat("is ", inference::DataType_Name(sample.data_type()),
                     "; expected ",
                     inference::DataType_Name(input->data_type()),
                     " as declared by the input"));
  }
  if (!DimsFit(input->dims(), sample.dims())) {
    problems->Add(
        path + ".dims",
        absl::StrCat("is ", JoinDims(sample.dims()),
                     "; expected concrete sizes matching the "
                     "input's dims ",
                     JoinDims(input->dims()), " (without the batch dim)"));
  }
  if (sample.input_data_type_case() ==
      inference::ModelWarmup::Input::INPUT_DATA_TYPE_NOT_SET) {
    problems->Add(path,
                  "has no data source; expected zero_data, random_data or "
                  "input_data_file");
  }
}

}  // namespace

void ValidateWarmup(const inference::ModelConfig& config,
                    ValidationProblems* problems) {
  const uint32_t max_batch =
      config.max_batch_size() > 0 ? config.max_batch_size() : 1;
  for (int i = 0; i < config.model_warmup_size(); ++i) {
    const inference::ModelWarmup& warmup = config.model_warmup(i);
    const std::string path = absl::StrCat("model_warmup[", i, "]");
    if (warmup.name().empty()) {
      problems->Add(path + ".name", "is empty; expected a sample name");
    }
    if (warmup.batch_size() < 1 || warmup.batch_size() > max_batch) {
      problems->Add(
          path + ".batch_size",
          absl::StrCat("is ", warmup.batch_size(), "; expected 1..", max_batch,
                       config.max_batch_size() > 0
                           ? " (max_batch_size)"
                           : " (the model does not batch)"));
    }
    for (const auto& [name, sample] : warmup.inputs()) {
      ValidateSampleInput(config, absl::StrCat(path, ".inputs['", name, "']"),
                          name, sample, problems);
    }
    for (const inference::ModelInput& input : config.input()) {
      if (input.optional() || input.name().empty() ||
          warmup.inputs().count(input.name()) > 0) {
        continue;
      }
      problems->Add(path + ".inputs",
                    absl::StrCat("lacks input '", input.name(),
                                 "'; expected every required input"));
    }
  }
}

}  // namespace serval
