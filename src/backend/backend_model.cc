#include "backend/backend_model.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "backend/host_batch.h"
#include "google/protobuf/util/json_util.h"

namespace serval {
namespace {

std::string ConfigJson(const inference::ModelConfig& config) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(config, &json, opts);
  return json;
}

// Owns the C views handed to model_create for the duration of the call.
struct ModelInfoStorage {
  std::vector<std::vector<int64_t>> dims;
  std::vector<ServalTensorSpec> inputs;
  std::vector<ServalTensorSpec> outputs;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<ServalParameter> c_params;
  std::string config_json;
  ServalModelInfo info{};
};

}  // namespace

BackendModel::BackendModel(std::shared_ptr<BackendLibrary> library,
                           BackendModelOptions options, ModelSpec io)
    : library_(std::move(library)),
      options_(std::move(options)),
      io_(std::move(io)) {}

BackendModel::~BackendModel() {
  if (state_ != nullptr) library_->api().model_destroy(state_);
}

absl::StatusOr<std::shared_ptr<BackendModel>> BackendModel::Create(
    std::shared_ptr<BackendLibrary> library, BackendModelOptions options) {
  auto io = ModelSpec::FromConfig(options.config);
  if (!io.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", options.name, "': ", io.status().message()));
  }
  std::shared_ptr<BackendModel> model(
      new BackendModel(std::move(library), std::move(options), std::move(*io)));

  ModelInfoStorage st;
  // Reserve so the pointers into `dims` stay valid.
  st.dims.reserve(model->io_.inputs.size() + model->io_.outputs.size());
  for (const auto& s : model->io_.inputs) {
    // The backend sees the reshape, when the config declares one.
    st.dims.push_back(s.reshape.value_or(s.dims));
    st.inputs.push_back(ServalTensorSpec{
        s.name.c_str(), static_cast<int32_t>(s.datatype), st.dims.back().data(),
        static_cast<uint32_t>(st.dims.back().size())});
  }
  for (const auto& s : model->io_.outputs) {
    st.dims.push_back(s.reshape.value_or(s.dims));
    st.outputs.push_back(ServalTensorSpec{
        s.name.c_str(), static_cast<int32_t>(s.datatype), st.dims.back().data(),
        static_cast<uint32_t>(st.dims.back().size())});
  }
  const auto& cfg = model->options_.config;
  for (const auto& [key, value] : cfg.parameters()) {
    st.params.emplace_back(key, value.string_value());
  }
  for (const auto& [k, v] : st.params) {
    st.c_params.push_back(ServalParameter{k.c_str(), v.c_str()});
  }
  st.config_json = ConfigJson(cfg);
  const auto& o = model->options_;
  st.info.name = o.name.c_str();
  st.info.version = o.version;
  st.info.version_path = o.version_path.c_str();
  st.info.model_file = o.model_file.c_str();
  st.info.max_batch_size = model->io_.max_batch_size;
  st.info.inputs = st.inputs.data();
  st.info.input_count = static_cast<uint32_t>(st.inputs.size());
  st.info.outputs = st.outputs.data();
  st.info.output_count = static_cast<uint32_t>(st.outputs.size());
  st.info.parameters = st.c_params.data();
  st.info.parameter_count = static_cast<uint32_t>(st.c_params.size());
  st.info.instance_count = o.instance_count;
  st.info.config_json = st.config_json.c_str();

  ServalModelState* state = nullptr;
  absl::Status s =
      TakeError(model->library_->api().model_create(&st.info, &state));
  if (!s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("model '", o.name, "' version ", o.version,
                                     ": backend '", model->library_->name(),
                                     "' failed to load it: ", s.message()));
  }
  model->state_ = state;
  return model;
}

absl::StatusOr<std::unique_ptr<BackendInstance>> BackendModel::CreateInstance(
    ServalInstanceKind kind, int32_t device_id, uint32_t index) {
  ServalInstanceState* state = nullptr;
  absl::Status s = TakeError(
      library_->api().instance_create(state_, kind, device_id, index, &state));
  if (!s.ok()) {
    return absl::Status(
        s.code(),
        absl::StrCat("model '", options_.name, "' instance ", index, " (",
                     kind == SERVAL_INSTANCE_GPU ? "GPU" : "CPU", " ",
                     device_id, "): ", s.message()));
  }
  // The instance keeps the model (and so the weights and library) alive.
  return std::unique_ptr<BackendInstance>(
      new BackendInstance(shared_from_this(), state, kind, device_id, index));
}

BackendInstance::BackendInstance(std::shared_ptr<BackendModel> model,
                                 ServalInstanceState* state,
                                 ServalInstanceKind kind, int32_t device_id,
                                 uint32_t index)
    : model_(std::move(model)),
      state_(state),
      kind_(kind),
      device_id_(device_id),
      index_(index) {}

BackendInstance::~BackendInstance() {
  if (state_ != nullptr) model_->library().api().instance_destroy(state_);
}

void BackendInstance::Execute(HostBatch* batch) {
  model_->library().api().execute(state_, batch->ToAbi());
}

namespace {
void AppendToString(void* context, const char* data, uint64_t size) {
  static_cast<std::string*>(context)->append(data, size);
}
}  // namespace

absl::StatusOr<std::string> AutocompleteFromBackend(
    const BackendLibrary& library, const std::string& model_file,
    const inference::ModelConfig& partial) {
  const ServalBackendApi& api = library.api();
  constexpr size_t kEnd = offsetof(ServalBackendApi, model_autocomplete) +
                          sizeof(ServalBackendApi::model_autocomplete);
  if (api.struct_size < kEnd || api.model_autocomplete == nullptr) {
    return std::string();
  }
  std::string json;
  const std::string config_json = ConfigJson(partial);
  absl::Status s = TakeError(api.model_autocomplete(
      model_file.c_str(), config_json.c_str(), &AppendToString, &json));
  if (!s.ok()) {
    return absl::Status(
        s.code(), absl::StrCat("backend '", library.name(), "' could not read ",
                               model_file, ": ", s.message()));
  }
  return json;
}

}  // namespace serval
