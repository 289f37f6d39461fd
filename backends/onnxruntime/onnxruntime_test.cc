// Loads the onnxruntime plugin through the host's BackendLibrary and runs
// the generated example models (scripts/make_repository.sh) against the
// outputs PyTorch computed for the same inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend_library.h"
#include "backend/backend_model.h"
#include "backend/sync_runner.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "proto/model_config.pb.h"
#include "rapidjson/document.h"

namespace serval {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kModels = SERVAL_EXAMPLE_MODELS;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inference::ModelConfig ReadConfig(const fs::path& model_dir) {
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      ReadFile(model_dir / "config.pbtxt"), &config))
      << model_dir;
  return config;
}

struct RefTensor {
  std::string name;
  DataType datatype = DataType::kInvalid;
  Shape shape;
  std::string bytes;
};

struct RefCase {
  int64_t batch = 0;
  std::vector<RefTensor> inputs;
  std::vector<RefTensor> outputs;
};

std::vector<RefTensor> ReadTensors(const fs::path& dir,
                                   const rapidjson::Value& list) {
  std::vector<RefTensor> out;
  for (const auto& t : list.GetArray()) {
    RefTensor r;
    r.name = t["name"].GetString();
    r.datatype = *DataTypeFromApiName(t["datatype"].GetString());
    for (const auto& d : t["shape"].GetArray()) r.shape.push_back(d.GetInt64());
    r.bytes = ReadFile(dir / t["file"].GetString());
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<RefCase> ReadReference(const fs::path& model_dir) {
  rapidjson::Document doc;
  const std::string text = ReadFile(model_dir / "reference.json");
  doc.Parse(text.c_str());
  EXPECT_FALSE(doc.HasParseError()) << model_dir;
  std::vector<RefCase> cases;
  for (const auto& c : doc["cases"].GetArray()) {
    RefCase rc;
    rc.batch = c["batch"].GetInt64();
    rc.inputs = ReadTensors(model_dir, c["inputs"]);
    rc.outputs = ReadTensors(model_dir, c["outputs"]);
    cases.push_back(std::move(rc));
  }
  return cases;
}

std::vector<TensorView> Views(const std::vector<RefTensor>& tensors) {
  std::vector<TensorView> views;
  for (const RefTensor& t : tensors) {
    views.push_back(TensorView{t.name, t.datatype, t.shape, t.bytes.data(),
                               t.bytes.size()});
  }
  return views;
}

// Relative to the largest reference magnitude in the tensor, so outputs
// near zero do not demand impossible precision.
void ExpectClose(const RefTensor& want, const OutputTensor& got, double rtol,
                 const std::string& what) {
  ASSERT_EQ(got.name, want.name) << what;
  ASSERT_EQ(got.datatype, DataType::kFp32) << what;
  ASSERT_EQ(got.shape, want.shape) << what;
  ASSERT_EQ(got.data.size(), want.bytes.size()) << what;
  const size_t n = want.bytes.size() / sizeof(float);
  std::vector<float> a(n), b(n);
  std::memcpy(a.data(), got.data.data(), want.bytes.size());
  std::memcpy(b.data(), want.bytes.data(), want.bytes.size());
  double scale = 0;
  for (float v : b) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  const double tol = rtol * std::max(scale, 1e-12);
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::fabs(static_cast<double>(a[i]) - b[i]) > tol && bad++ < 5) {
      ADD_FAILURE() << what << " element " << i << ": got " << a[i] << ", want "
                    << b[i] << " (tolerance " << tol << ")";
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}

class OnnxRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Once per process: derived fixtures call this too.
    if (library_ != nullptr) return;
    auto lib = BackendLibrary::Open(SERVAL_ORT_PLUGIN);
    ASSERT_TRUE(lib.ok()) << lib.status();
    library_ = new std::shared_ptr<BackendLibrary>(*lib);
  }

  void SetUp() override {
    if (!fs::exists(kModels / "mlp_onnx" / "reference.json")) {
      GTEST_SKIP() << kModels << " is missing: run scripts/make_repository.sh";
    }
  }

  static absl::StatusOr<std::shared_ptr<BackendModel>> Load(
      const fs::path& dir, const inference::ModelConfig& config,
      uint32_t instances = 1) {
    BackendModelOptions o;
    o.name = dir.filename().string();
    o.version = 1;
    o.version_path = (dir / "1").string();
    o.model_file = (dir / "1" / "model.onnx").string();
    o.config = config;
    o.instance_count = instances;
    return BackendModel::Create(*library_, std::move(o));
  }

  static std::shared_ptr<BackendLibrary>* library_;
};

std::shared_ptr<BackendLibrary>* OnnxRuntimeTest::library_ = nullptr;

struct ModelCase {
  const char* dir;
  double rtol;
};

void PrintTo(const ModelCase& c, std::ostream* os) {
  *os << c.dir << " (rtol " << c.rtol << ")";
}

class ReferenceTest : public OnnxRuntimeTest,
                      public ::testing::WithParamInterface<ModelCase> {};

TEST_P(ReferenceTest, MatchesPyTorchAtBatch1And4) {
  const fs::path dir = kModels / GetParam().dir;
  auto model = Load(dir, ReadConfig(dir));
  ASSERT_TRUE(model.ok()) << model.status();
  auto instance = (*model)->CreateInstance(SERVAL_INSTANCE_CPU, 0, 0);
  ASSERT_TRUE(instance.ok()) << instance.status();
  const auto cases = ReadReference(dir);
  ASSERT_EQ(cases.size(), 2u);
  for (const RefCase& c : cases) {
    auto outputs = RunBatchSync(**instance, Views(c.inputs));
    ASSERT_TRUE(outputs.ok()) << outputs.status();
    ASSERT_EQ(outputs->size(), c.outputs.size());
    ExpectClose(
        c.outputs[0], (*outputs)[0], GetParam().rtol,
        std::string(GetParam().dir) + " batch " + std::to_string(c.batch));
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ReferenceTest,
                         ::testing::Values(ModelCase{"mlp_onnx", 1e-5},
                                           ModelCase{"text_lstm_onnx", 1e-4},
                                           ModelCase{"resnet50_onnx", 1e-4}),
                         [](const auto& info) {
                           return std::string(info.param.dir);
                         });

TEST_F(OnnxRuntimeTest, AutocompletesADirectoryWithOnlyTheModelFile) {
  const fs::path dir = fs::temp_directory_path() /
                       ("serval_ort_auto_" + std::to_string(getpid()));
  fs::create_directories(dir / "1");
  fs::copy_file(kModels / "mlp_onnx" / "1" / "model.onnx",
                dir / "1" / "model.onnx");
  inference::ModelConfig partial;
  partial.set_name("auto");
  auto json = AutocompleteFromBackend(
      **library_, (dir / "1" / "model.onnx").string(), partial);
  ASSERT_TRUE(json.ok()) << json.status();

  inference::ModelConfig config = partial;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &config).ok())
      << *json;
  EXPECT_EQ(config.max_batch_size(), 8);
  ASSERT_EQ(config.input_size(), 1);
  EXPECT_EQ(config.input(0).name(), "input");
  EXPECT_EQ(config.input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config.input(0).dims(), ::testing::ElementsAre(256));
  ASSERT_EQ(config.output_size(), 1);
  EXPECT_EQ(config.output(0).name(), "output");
  EXPECT_THAT(config.output(0).dims(), ::testing::ElementsAre(10));

  // The completed configuration serves the model.
  auto model = Load(dir, config);
  ASSERT_TRUE(model.ok()) << model.status();
  auto instance = (*model)->CreateInstance(SERVAL_INSTANCE_CPU, 0, 0);
  ASSERT_TRUE(instance.ok()) << instance.status();
  const auto cases = ReadReference(kModels / "mlp_onnx");
  auto outputs = RunBatchSync(**instance, Views(cases[1].inputs));
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ExpectClose(cases[1].outputs[0], (*outputs)[0], 1e-5, "auto mlp batch 4");
  fs::remove_all(dir);
}

TEST_F(OnnxRuntimeTest, CorruptModelFileFailsWithTheReason) {
  const fs::path dir = fs::temp_directory_path() /
                       ("serval_ort_corrupt_" + std::to_string(getpid()));
  fs::create_directories(dir / "1");
  std::ofstream(dir / "1" / "model.onnx") << "this is not an ONNX protobuf";
  auto model = Load(dir, ReadConfig(kModels / "mlp_onnx"));
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("cannot load " + (dir / "1" / "model.onnx").string()));
  auto json = AutocompleteFromBackend(**library_,
                                      (dir / "1" / "model.onnx").string(), {});
  EXPECT_FALSE(json.ok());
  fs::remove_all(dir);
}

TEST_F(OnnxRuntimeTest, MismatchingConfigNamesEveryDifference) {
  inference::ModelConfig config = ReadConfig(kModels / "mlp_onnx");
  config.mutable_input(0)->set_data_type(inference::TYPE_INT32);
  config.mutable_output(0)->clear_dims();
  config.mutable_output(0)->add_dims(12);
  auto* extra = config.add_output();
  extra->set_name("logits");
  extra->set_data_type(inference::TYPE_FP32);
  extra->add_dims(10);
  auto model = Load(kModels / "mlp_onnx", config);
  ASSERT_FALSE(model.ok());
  const std::string msg(model.status().message());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(msg, HasSubstr("mlp_onnx"));
  EXPECT_THAT(msg, HasSubstr("input 'input': config datatype TYPE_INT32, "
                             "model datatype TYPE_FP32"));
  EXPECT_THAT(msg, HasSubstr("output 'output': config dims [12] differ from "
                             "model dims [10]"));
  EXPECT_THAT(msg, HasSubstr("config output 'logits' is not an output"));
}

TEST_F(OnnxRuntimeTest, MissingInputAndFixedBatchDimAreRejected) {
  inference::ModelConfig config = ReadConfig(kModels / "mlp_onnx");
  config.mutable_input(0)->set_name("x");
  auto model = Load(kModels / "mlp_onnx", config);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("model input 'input' is missing from the config"));

  // Without batching the config must spell the dynamic first dim.
  config = ReadConfig(kModels / "mlp_onnx");
  config.set_max_batch_size(0);
  model = Load(kModels / "mlp_onnx", config);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("config dims [256] (rank 1), model dims [-1,256]"));
}

TEST_F(OnnxRuntimeTest, ParametersAreValidated) {
  inference::ModelConfig config = ReadConfig(kModels / "mlp_onnx");
  (*config.mutable_parameters())["graph_optimization_level"].set_string_value(
      "fastest");
  auto model = Load(kModels / "mlp_onnx", config);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("graph_optimization_level must be one of"));

  config = ReadConfig(kModels / "mlp_onnx");
  (*config.mutable_parameters())["intra_op_thread_count"].set_string_value("0");
  EXPECT_FALSE(Load(kModels / "mlp_onnx", config).ok());

  config = ReadConfig(kModels / "mlp_onnx");
  (*config.mutable_parameters())["intra_op_thread_count"].set_string_value("1");
  (*config.mutable_parameters())["graph_optimization_level"].set_string_value(
      "basic");
  EXPECT_TRUE(Load(kModels / "mlp_onnx", config).ok());
}

TEST_F(OnnxRuntimeTest, GpuInstancesAreRefused) {
  auto model = Load(kModels / "mlp_onnx", ReadConfig(kModels / "mlp_onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  auto instance = (*model)->CreateInstance(SERVAL_INSTANCE_GPU, 0, 0);
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.status().code(), absl::StatusCode::kUnimplemented);
}

TEST_F(OnnxRuntimeTest, WrongInputShapeFailsTheBatch) {
  const fs::path dir = kModels / "mlp_onnx";
  auto model = Load(dir, ReadConfig(dir));
  ASSERT_TRUE(model.ok()) << model.status();
  auto instance = (*model)->CreateInstance(SERVAL_INSTANCE_CPU, 0, 0);
  ASSERT_TRUE(instance.ok());
  std::vector<float> data(2 * 128);
  TensorView view{"input",
                  DataType::kFp32,
                  {2, 128},
                  reinterpret_cast<const char*>(data.data()),
                  data.size() * sizeof(float)};
  auto outputs = RunBatchSync(**instance, {view});
  EXPECT_FALSE(outputs.ok());
}

// Without batching and with the first dim left variable, output shapes are
// only known after the run: the plugin copies them into host buffers.
TEST_F(OnnxRuntimeTest, VariableOutputShapesAreCopiedOut) {
  const fs::path dir = kModels / "mlp_onnx";
  inference::ModelConfig config = ReadConfig(dir);
  config.set_max_batch_size(0);
  config.mutable_input(0)->clear_dims();
  config.mutable_input(0)->add_dims(-1);
  config.mutable_input(0)->add_dims(256);
  config.mutable_output(0)->clear_dims();
  config.mutable_output(0)->add_dims(-1);
  config.mutable_output(0)->add_dims(-1);
  auto model = Load(dir, config);
  ASSERT_TRUE(model.ok()) << model.status();
  auto instance = (*model)->CreateInstance(SERVAL_INSTANCE_CPU, 0, 0);
  ASSERT_TRUE(instance.ok()) << instance.status();
  for (const RefCase& c : ReadReference(dir)) {
    auto outputs = RunBatchSync(**instance, Views(c.inputs));
    ASSERT_TRUE(outputs.ok()) << outputs.status();
    ExpectClose(c.outputs[0], (*outputs)[0], 1e-5,
                "variable batch " + std::to_string(c.batch));
  }
}

// Two instances share one session; 8 threads drive them (one batch at a
// time per instance, as the host guarantees) and must see serial results.
TEST_F(OnnxRuntimeTest, ConcurrentInstancesMatchSerialResults) {
  const fs::path dir = kModels / "text_lstm_onnx";
  auto model = Load(dir, ReadConfig(dir), /*instances=*/2);
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<std::unique_ptr<BackendInstance>> instances;
  for (uint32_t i = 0; i < 2; ++i) {
    auto inst = (*model)->CreateInstance(SERVAL_INSTANCE_CPU, 0, i);
    ASSERT_TRUE(inst.ok()) << inst.status();
    instances.push_back(std::move(*inst));
  }
  const auto cases = ReadReference(dir);
  std::vector<std::string> serial;
  for (const RefCase& c : cases) {
    auto out = RunBatchSync(*instances[0], Views(c.inputs));
    ASSERT_TRUE(out.ok()) << out.status();
    serial.emplace_back((*out)[0].data.data(), (*out)[0].data.size());
  }

  std::mutex mu[2];
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int iter = 0; iter < 20; ++iter) {
        const size_t k = (t + iter) % cases.size();
        const int which = (t + iter) % 2;
        std::lock_guard<std::mutex> lock(mu[which]);
        auto out = RunBatchSync(*instances[which], Views(cases[k].inputs));
        if (!out.ok()) {
          ++failures;
          continue;
        }
        if (std::string((*out)[0].data.data(), (*out)[0].data.size()) !=
            serial[k]) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Instances are execution contexts over one session: three more resnet50
// instances, each having run a batch concurrently, must add less than 10%
// to what the first one (weights, arena, one run) costs.
TEST_F(OnnxRuntimeTest, InstancesShareTheWeights) {
  const fs::path dir = kModels / "resnet50_onnx";
  const auto cases = ReadReference(dir);
  const int64_t before = ResidentBytes();
  auto model = Load(dir, ReadConfig(dir), /*instances=*/4);
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<std::unique_ptr<BackendInstance>> instances;
  for (uint32_t i = 0; i < 4; ++i) {
    auto inst = (*model)->CreateInstance(SERVAL_INSTANCE_CPU, 0, i);
    ASSERT_TRUE(inst.ok()) << inst.status();
    instances.push_back(std::move(*inst));
  }
  ASSERT_TRUE(RunBatchSync(*instances[0], Views(cases[0].inputs)).ok());
  const int64_t one = ResidentBytes();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      if (!RunBatchSync(*instances[i], Views(cases[0].inputs)).ok()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  const int64_t four = ResidentBytes();
  EXPECT_EQ(failures.load(), 0);
  const double footprint = static_cast<double>(one - before);
  RecordProperty("one_instance_mib", static_cast<int>(footprint / (1 << 20)));
  RecordProperty("extra_mib", static_cast<int>((four - one) / (1 << 20)));
  EXPECT_GT(footprint, 90.0 * (1 << 20))
      << "resnet50's weights alone are ~100 MB";
  EXPECT_LT(four - one, 0.10 * footprint)
      << "one instance: " << footprint / (1 << 20) << " MiB, four add "
      << (four - one) / double(1 << 20) << " MiB";
}

}  // namespace
}  // namespace serval
