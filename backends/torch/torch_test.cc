// Tests of the torch plugin through the real host (BackendLibrary,
// BackendModel, RunBatchSync). Tiny TorchScript models are scripted at test
// time with Debian's /usr/bin/python3 into a temporary directory; the
// example repository (scripts/make_models.py) is checked against its
// Python reference data when it has been generated.
#include <dlfcn.h>
#include <simdjson.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
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
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "model_spec.h"

namespace serval {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Scripts every model the tests use. Each is saved as <dir>/<name>.pt.
constexpr char kMakeModels[] = R"PY(
import sys, torch
from typing import List, Optional, Tuple
out = sys.argv[1]
torch.manual_seed(0)

class AddOne(torch.nn.Module):
    def forward(self, x):
        return x + 1.0

class TwoOutputs(torch.nn.Module):
    def forward(self, x):
        return x * 2.0, x.sum(dim=1, keepdim=True)

class ListOutputs(torch.nn.Module):
    def forward(self, x) -> list[torch.Tensor]:
        return [x - 1.0, x * x]

class Embed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 3)
        with torch.no_grad():
            self.emb.weight.copy_(
                torch.arange(30, dtype=torch.float32).reshape(10, 3))
    def forward(self, ids):
        return self.emb(ids)

class Named(torch.nn.Module):
    def forward(self, a, b):
        return a - 2.0 * b

class DictOutputs(torch.nn.Module):
    def forward(self, x) -> dict[str, torch.Tensor]:
        return {"plus": x + 1.0, "minus": x - 1.0}

class ToInt(torch.nn.Module):
    def forward(self, x):
        return x.long()

class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(64, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 8))
    def forward(self, x):
        return self.net(x)

class Shout(torch.nn.Module):
    def forward(self, words: List[str]) -> List[str]:
        return [w + "!" for w in words]

class Lengths(torch.nn.Module):
    def forward(self, words: List[str]) -> Tuple[List[str], torch.Tensor]:
        return words, torch.tensor([len(w) for w in words], dtype=torch.int64)

class OptionalBias(torch.nn.Module):
    def forward(self, x, bias: Optional[torch.Tensor] = None):
        if bias is None:
            return x
        return x + bias

for name, module in [("shout", Shout()), ("lengths", Lengths()),
                     ("optional_bias", OptionalBias()),
                     ("add_one", AddOne()), ("two_outputs", TwoOutputs()),
                     ("list_outputs", ListOutputs()), ("embed", Embed()),
                     ("named", Named()), ("dict_outputs", DictOutputs()),
                     ("to_int", ToInt()), ("mlp", Mlp())]:
    torch.jit.script(module.eval()).save(f"{out}/{name}.pt")
)PY";

const char* const kPlugin = SERVAL_TORCH_PLUGIN;

std::vector<char> FloatBytes(const std::vector<float>& v) {
  std::vector<char> bytes(v.size() * sizeof(float));
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

std::vector<float> AsFloats(const OutputTensor& t) {
  std::vector<float> v(t.data.size() / sizeof(float));
  std::memcpy(v.data(), t.data.data(), v.size() * sizeof(float));
  return v;
}

const OutputTensor* Find(const std::vector<OutputTensor>& outputs,
                         const std::string& name) {
  for (const auto& t : outputs) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

TensorView View(const std::string& name, DataType type, Shape shape,
                const std::vector<char>& bytes) {
  return TensorView{name, type, std::move(shape), bytes.data(), bytes.size()};
}

// A serialized BYTES tensor: 4-byte length, then the bytes, per element.
std::vector<char> Strings(const std::vector<std::string>& elements) {
  std::vector<char> out;
  for (const std::string& e : elements) {
    const uint32_t n = static_cast<uint32_t>(e.size());
    out.insert(out.end(), reinterpret_cast<const char*>(&n),
               reinterpret_cast<const char*>(&n) + 4);
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

std::vector<std::string> AsStrings(const OutputTensor& t) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos + 4 <= t.data.size()) {
    uint32_t n;
    std::memcpy(&n, t.data.data() + pos, 4);
    out.emplace_back(t.data.data() + pos + 4, n);
    pos += 4 + n;
  }
  return out;
}

// Opens the plugin through the host's loader and loads models with it.
class PluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto library = BackendLibrary::Open(kPlugin);
    ASSERT_TRUE(library.ok()) << library.status();
    library_ = *library;
  }

  absl::StatusOr<std::shared_ptr<BackendModel>> Load(
      const std::string& file, const std::string& config_text,
      uint32_t instances = 1) {
    BackendModelOptions options;
    if (!google::protobuf::TextFormat::ParseFromString(config_text,
                                                       &options.config)) {
      return absl::InvalidArgumentError("bad test config");
    }
    options.name = options.config.name();
    options.version = 1;
    options.version_path = fs::path(file).parent_path().string();
    options.model_file = file;
    options.instance_count = instances;
    return BackendModel::Create(library_, std::move(options));
  }

  std::shared_ptr<BackendModel> MustLoad(const std::string& file,
                                         const std::string& config_text,
                                         uint32_t instances = 1) {
    auto model = Load(file, config_text, instances);
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? *model : nullptr;
  }

  static std::unique_ptr<BackendInstance> MustInstance(BackendModel& model,
                                                       uint32_t index = 0) {
    auto instance = model.CreateInstance(SERVAL_INSTANCE_CPU, 0, index);
    EXPECT_TRUE(instance.ok()) << instance.status();
    return instance.ok() ? std::move(*instance) : nullptr;
  }

  std::shared_ptr<BackendLibrary> library_;
};

// The tiny models are scripted once into the build tree, in a directory
// named after the script's hash, so ctest's one-process-per-test runs (in
// parallel too) pay for Python only once. Each test gets a scratch
// directory of its own for files it writes.
class TorchBackendTest : public PluginTest {
 protected:
  static void SetUpTestSuite() {
    const std::string hash =
        std::to_string(std::hash<std::string_view>()(kMakeModels));
    const fs::path cache = fs::path(SERVAL_TORCH_TEST_MODELS) / hash;
    models_ = new std::string(cache.string());
    if (fs::exists(cache / "done")) return;
    fs::create_directories(cache.parent_path());
    std::string pattern = (cache.parent_path() / "tmp_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    const std::string script = pattern + "/make_models.py";
    std::ofstream(script) << kMakeModels;
    const std::string cmd = "/usr/bin/python3 " + script + " " + pattern;
    ASSERT_EQ(std::system(cmd.c_str()), 0)
        << cmd << " failed: the tests need Debian's python3-torch";
    std::ofstream(pattern + "/done") << "ok";
    std::error_code error;
    fs::rename(pattern, cache, error);  // fails when another run won the race
    fs::remove_all(pattern, error);
    ASSERT_TRUE(fs::exists(cache / "done"));
  }
  static void TearDownTestSuite() {
    delete models_;
    models_ = nullptr;
  }

  void SetUp() override {
    PluginTest::SetUp();
    char pattern[] = "/tmp/serval_torch_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    scratch_ = pattern;
  }
  void TearDown() override {
    if (!scratch_.empty()) fs::remove_all(scratch_);
  }

  static std::string File(const std::string& name) {
    return *models_ + "/" + name + ".pt";
  }

  static std::string* models_;
  std::string scratch_;
};

std::string* TorchBackendTest::models_ = nullptr;

constexpr char kAddOneConfig[] = R"(
  name: "add_one" max_batch_size: 8
  input { name: "INPUT__0" data_type: TYPE_FP32 dims: [4] }
  output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [4] })";

TEST_F(TorchBackendTest, AddOneBatch) {
  auto model = MustLoad(File("add_one"), kAddOneConfig);
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  ASSERT_NE(instance, nullptr);
  const auto in = FloatBytes({0, 1, 2, 3, 10, 20, 30, 40});
  auto out =
      RunBatchSync(*instance, {View("INPUT__0", DataType::kFp32, {2, 4}, in)});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].shape, (Shape{2, 4}));
  EXPECT_THAT(AsFloats((*out)[0]),
              ::testing::ElementsAre(1, 2, 3, 4, 11, 21, 31, 41));
}

TEST_F(TorchBackendTest, ConfigReshapeIsTheHostsJob) {
  // The model sees [batch, 2, 2]; clients send and get [batch, 4].
  auto model = MustLoad(File("add_one"), R"(
    name: "reshaped" max_batch_size: 8
    input { name: "INPUT__0" data_type: TYPE_FP32 dims: [4]
            reshape { shape: [2, 2] } }
    output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [4]
             reshape { shape: [2, 2] } })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto in = FloatBytes({0, 1, 2, 3});
  auto out =
      RunBatchSync(*instance, {View("INPUT__0", DataType::kFp32, {1, 4}, in)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].shape, (Shape{1, 4}));
  EXPECT_THAT(AsFloats((*out)[0]), ::testing::ElementsAre(1, 2, 3, 4));
}

constexpr char kTwoOutputsConfig[] = R"(
  name: "two" max_batch_size: 8
  input { name: "INPUT__0" data_type: TYPE_FP32 dims: [3] }
  output { name: "OUTPUT__1" data_type: TYPE_FP32 dims: [1] }
  output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [3] })";

TEST_F(TorchBackendTest, TupleOutputsMapByConventionIndex) {
  // The config lists OUTPUT__1 first: the index, not the order, decides.
  auto model = MustLoad(File("two_outputs"), kTwoOutputsConfig);
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto in = FloatBytes({1, 2, 3});
  auto out =
      RunBatchSync(*instance, {View("INPUT__0", DataType::kFp32, {1, 3}, in)});
  ASSERT_TRUE(out.ok()) << out.status();
  const OutputTensor* doubled = Find(*out, "OUTPUT__0");
  const OutputTensor* sum = Find(*out, "OUTPUT__1");
  ASSERT_NE(doubled, nullptr);
  ASSERT_NE(sum, nullptr);
  EXPECT_THAT(AsFloats(*doubled), ::testing::ElementsAre(2, 4, 6));
  EXPECT_EQ(sum->shape, (Shape{1, 1}));
  EXPECT_THAT(AsFloats(*sum), ::testing::ElementsAre(6));
}

TEST_F(TorchBackendTest, OnlyRequestedOutputsAreProduced) {
  auto model = MustLoad(File("two_outputs"), kTwoOutputsConfig);
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto in = FloatBytes({1, 2, 3});
  auto out =
      RunBatchSync(*instance, {View("INPUT__0", DataType::kFp32, {1, 3}, in)},
                   {"OUTPUT__1"});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].name, "OUTPUT__1");
  EXPECT_THAT(AsFloats((*out)[0]), ::testing::ElementsAre(6));
}

TEST_F(TorchBackendTest, ListOutputsInConfigOrder) {
  auto model = MustLoad(File("list_outputs"), R"(
    name: "list" max_batch_size: 4
    input { name: "x" data_type: TYPE_FP32 dims: [2] }
    output { name: "minus_one" data_type: TYPE_FP32 dims: [2] }
    output { name: "squared" data_type: TYPE_FP32 dims: [2] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto in = FloatBytes({3, 4});
  auto out = RunBatchSync(*instance, {View("x", DataType::kFp32, {1, 2}, in)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(AsFloats(*Find(*out, "minus_one")), ::testing::ElementsAre(2, 3));
  EXPECT_THAT(AsFloats(*Find(*out, "squared")), ::testing::ElementsAre(9, 16));
}

TEST_F(TorchBackendTest, Int64EmbeddingWithoutBatching) {
  auto model = MustLoad(File("embed"), R"(
    name: "embed" max_batch_size: 0
    input { name: "INPUT__0" data_type: TYPE_INT64 dims: [-1] }
    output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [-1, 3] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const std::vector<int64_t> ids = {2, 0, 9};
  std::vector<char> bytes(ids.size() * sizeof(int64_t));
  std::memcpy(bytes.data(), ids.data(), bytes.size());
  auto out =
      RunBatchSync(*instance, {View("INPUT__0", DataType::kInt64, {3}, bytes)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].shape, (Shape{3, 3}));
  EXPECT_THAT(AsFloats((*out)[0]),
              ::testing::ElementsAre(6, 7, 8, 0, 1, 2, 27, 28, 29));
}

TEST_F(TorchBackendTest, InputsBindByForwardArgumentName) {
  // forward(a, b) = a - 2b; the config lists b first.
  auto model = MustLoad(File("named"), R"(
    name: "named" max_batch_size: 4
    input { name: "b" data_type: TYPE_FP32 dims: [1] }
    input { name: "a" data_type: TYPE_FP32 dims: [1] }
    output { name: "out" data_type: TYPE_FP32 dims: [1] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto a = FloatBytes({10});
  const auto b = FloatBytes({1});
  auto out = RunBatchSync(*instance, {View("a", DataType::kFp32, {1, 1}, a),
                                      View("b", DataType::kFp32, {1, 1}, b)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(AsFloats((*out)[0]), ::testing::ElementsAre(8));
}

TEST_F(TorchBackendTest, InputsBindInConfigOrderOtherwise) {
  // Names match neither the arguments nor INPUT__<i>: config order decides.
  auto model = MustLoad(File("named"), R"(
    name: "ordered" max_batch_size: 4
    input { name: "first" data_type: TYPE_FP32 dims: [1] }
    input { name: "second" data_type: TYPE_FP32 dims: [1] }
    output { name: "out" data_type: TYPE_FP32 dims: [1] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto first = FloatBytes({10});
  const auto second = FloatBytes({1});
  auto out =
      RunBatchSync(*instance, {View("second", DataType::kFp32, {1, 1}, second),
                               View("first", DataType::kFp32, {1, 1}, first)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(AsFloats((*out)[0]), ::testing::ElementsAre(8));
}

TEST_F(TorchBackendTest, BytesAreListsOfStringsInAndOut) {
  auto model = MustLoad(File("shout"), R"(
    name: "shout" max_batch_size: 4
    input { name: "words" data_type: TYPE_STRING dims: [1] }
    output { name: "OUTPUT__0" data_type: TYPE_STRING dims: [1] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  // An empty string and bytes that are not UTF-8 pass through.
  const std::string binary("\xff\x00z", 3);
  const auto in = Strings({"hi", "", binary});
  auto out =
      RunBatchSync(*instance, {View("words", DataType::kBytes, {3, 1}, in)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].datatype, DataType::kBytes);
  EXPECT_EQ((*out)[0].shape, (Shape{3, 1}));
  EXPECT_THAT(AsStrings((*out)[0]),
              ::testing::ElementsAre("hi!", "!", binary + "!"));
}

TEST_F(TorchBackendTest, StringsBesideTensorsWithoutBatching) {
  auto model = MustLoad(File("lengths"), R"(
    name: "lengths" max_batch_size: 0
    input { name: "words" data_type: TYPE_STRING dims: [-1] }
    output { name: "OUTPUT__0" data_type: TYPE_STRING dims: [-1] }
    output { name: "OUTPUT__1" data_type: TYPE_INT64 dims: [-1] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto in = Strings({"abc", "", "de"});
  auto out =
      RunBatchSync(*instance, {View("words", DataType::kBytes, {3}, in)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Find(*out, "OUTPUT__0")->shape, (Shape{3}));
  EXPECT_THAT(AsStrings(*Find(*out, "OUTPUT__0")),
              ::testing::ElementsAre("abc", "", "de"));
  const OutputTensor* lengths = Find(*out, "OUTPUT__1");
  std::vector<int64_t> n(3);
  std::memcpy(n.data(), lengths->data.data(), 24);
  EXPECT_THAT(n, ::testing::ElementsAre(3, 0, 2));
}

TEST_F(TorchBackendTest, BytesNeedAListOfStringsArgument) {
  auto model = Load(File("add_one"), R"(
    name: "wrong" max_batch_size: 4
    input { name: "INPUT__0" data_type: TYPE_STRING dims: [1] }
    output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [1] })");
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("not List[str] (it is BYTES)"));
  auto out_model = MustLoad(File("add_one"), R"(
    name: "wrong_out" max_batch_size: 4
    input { name: "INPUT__0" data_type: TYPE_FP32 dims: [1] }
    output { name: "OUTPUT__0" data_type: TYPE_STRING dims: [1] })");
  ASSERT_NE(out_model, nullptr);
  auto instance = MustInstance(*out_model);
  const auto in = FloatBytes({1});
  auto out =
      RunBatchSync(*instance, {View("INPUT__0", DataType::kFp32, {1, 1}, in)});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("is declared BYTES but the model produced Tensor"));
}

TEST_F(TorchBackendTest, AnAbsentOptionalInputTakesForwardsDefault) {
  auto model = MustLoad(File("optional_bias"), R"(
    name: "optional_bias" max_batch_size: 4
    input { name: "x" data_type: TYPE_FP32 dims: [2] }
    input { name: "bias" data_type: TYPE_FP32 dims: [2] optional: true }
    output { name: "out" data_type: TYPE_FP32 dims: [2] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto x = FloatBytes({1, 2});
  const auto bias = FloatBytes({10, 20});
  auto without =
      RunBatchSync(*instance, {View("x", DataType::kFp32, {1, 2}, x)});
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_THAT(AsFloats((*without)[0]), ::testing::ElementsAre(1, 2));
  auto with =
      RunBatchSync(*instance, {View("x", DataType::kFp32, {1, 2}, x),
                               View("bias", DataType::kFp32, {1, 2}, bias)});
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_THAT(AsFloats((*with)[0]), ::testing::ElementsAre(11, 22));
}

TEST_F(TorchBackendTest, AnAbsentInputWithoutADefaultIsAnError) {
  auto model = MustLoad(File("named"), R"(
    name: "named_optional" max_batch_size: 4
    input { name: "a" data_type: TYPE_FP32 dims: [1] }
    input { name: "b" data_type: TYPE_FP32 dims: [1] optional: true }
    output { name: "out" data_type: TYPE_FP32 dims: [1] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto a = FloatBytes({10});
  auto out = RunBatchSync(*instance, {View("a", DataType::kFp32, {1, 1}, a)});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("the batch lacks input 'b' and forward argument 'b' "
                        "has no default"));
}

TEST_F(TorchBackendTest, DictOutputsMatchByName) {
  auto model = MustLoad(File("dict_outputs"), R"(
    name: "dict" max_batch_size: 4
    input { name: "INPUT__0" data_type: TYPE_FP32 dims: [1] }
    output { name: "minus" data_type: TYPE_FP32 dims: [1] }
    output { name: "plus" data_type: TYPE_FP32 dims: [1] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto in = FloatBytes({5});
  auto out =
      RunBatchSync(*instance, {View("INPUT__0", DataType::kFp32, {1, 1}, in)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(AsFloats(*Find(*out, "plus")), ::testing::ElementsAre(6));
  EXPECT_THAT(AsFloats(*Find(*out, "minus")), ::testing::ElementsAre(4));
}

TEST_F(TorchBackendTest, CorruptFileFailsToLoad) {
  const std::string file = scratch_ + "/corrupt.pt";
  std::ofstream(file) << "this is not a TorchScript archive";
  auto model = Load(file, kAddOneConfig);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("cannot load TorchScript file"));
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("corrupt.pt"));
  // libtorch's C++ backtrace stays out of the message.
  EXPECT_THAT(std::string(model.status().message()),
              ::testing::Not(HasSubstr("Exception raised from")));
}

TEST_F(TorchBackendTest, MissingFileFailsToLoad) {
  auto model = Load(scratch_ + "/absent.pt", kAddOneConfig);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("absent.pt"));
}

TEST_F(TorchBackendTest, UnsupportedDatatypeFailsToLoad) {
  auto model = Load(File("add_one"), R"(
    name: "unsigned" max_batch_size: 8
    input { name: "INPUT__0" data_type: TYPE_UINT32 dims: [1] }
    output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [1] })");
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("UINT32, which the torch backend does not support"));
}

TEST_F(TorchBackendTest, TooManyDeclaredOutputsFailsToLoad) {
  auto model = Load(File("two_outputs"), R"(
    name: "three" max_batch_size: 8
    input { name: "INPUT__0" data_type: TYPE_FP32 dims: [3] }
    output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [3] }
    output { name: "OUTPUT__1" data_type: TYPE_FP32 dims: [1] }
    output { name: "OUTPUT__2" data_type: TYPE_FP32 dims: [1] })");
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("forward() returns 2 value(s)"));
}

TEST_F(TorchBackendTest, TooManyDeclaredInputsFailsToLoad) {
  auto model = Load(File("add_one"), R"(
    name: "two_in" max_batch_size: 8
    input { name: "INPUT__0" data_type: TYPE_FP32 dims: [4] }
    input { name: "INPUT__1" data_type: TYPE_FP32 dims: [4] }
    output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [4] })");
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("declares 2 inputs but forward() takes 1"));
}

TEST_F(TorchBackendTest, ProducedDatatypeMismatchFailsTheBatch) {
  auto model = MustLoad(File("to_int"), R"(
    name: "to_int" max_batch_size: 8
    input { name: "INPUT__0" data_type: TYPE_FP32 dims: [2] }
    output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [2] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto in = FloatBytes({1.5, 2.5});
  auto out =
      RunBatchSync(*instance, {View("INPUT__0", DataType::kFp32, {1, 2}, in)});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("'OUTPUT__0' is declared FP32 but the model produced "
                        "INT64"));
  // The instance stays usable after a failed batch.
  auto again =
      RunBatchSync(*instance, {View("INPUT__0", DataType::kFp32, {1, 2}, in)});
  EXPECT_FALSE(again.ok());
}

TEST_F(TorchBackendTest, ForwardFailureIsReportedNotThrown) {
  // The config says [4] but the model gets a shape its arithmetic rejects.
  auto model = MustLoad(File("named"), R"(
    name: "named" max_batch_size: 0
    input { name: "a" data_type: TYPE_FP32 dims: [-1] }
    input { name: "b" data_type: TYPE_FP32 dims: [-1] }
    output { name: "out" data_type: TYPE_FP32 dims: [-1] })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  const auto a = FloatBytes({1, 2, 3});
  const auto b = FloatBytes({1, 2});
  auto out = RunBatchSync(*instance, {View("a", DataType::kFp32, {3}, a),
                                      View("b", DataType::kFp32, {2}, b)});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("forward() failed"));
}

TEST_F(TorchBackendTest, GpuInstanceIsRefusedClearly) {
  auto model = MustLoad(File("add_one"), kAddOneConfig);
  ASSERT_NE(model, nullptr);
  auto instance = model->CreateInstance(SERVAL_INSTANCE_GPU, 0, 0);
  ASSERT_FALSE(instance.ok());
  EXPECT_THAT(std::string(instance.status().message()),
              HasSubstr("CPU instances only"));
}

TEST_F(TorchBackendTest, BadThreadParameterFailsToLoad) {
  auto model = Load(File("add_one"), std::string(kAddOneConfig) + R"(
    parameters { key: "intra_op_thread_count" value { string_value: "many" } })");
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(
      std::string(model.status().message()),
      HasSubstr("'intra_op_thread_count' must be an integer in [1, 4096]"));
}

// Debian's libtorch reaches BLAS through libblas.so.3; it must be the
// pthread OpenBLAS (setup.sh installs libopenblas0-pthread), and its pool
// must follow the instance's thread share.
TEST_F(TorchBackendTest, BlasIsPthreadOpenBlasSizedPerInstance) {
  auto model = MustLoad(File("add_one"), std::string(kAddOneConfig) + R"(
    parameters { key: "intra_op_thread_count" value { string_value: "1" } })");
  ASSERT_NE(model, nullptr);
  auto instance = MustInstance(*model);
  ASSERT_NE(instance, nullptr);
  void* openblas = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  ASSERT_NE(openblas, nullptr)
      << "libtorch did not load OpenBLAS: install libopenblas0-pthread";
  auto parallel =
      reinterpret_cast<int (*)()>(dlsym(openblas, "openblas_get_parallel"));
  auto threads =
      reinterpret_cast<int (*)()>(dlsym(openblas, "openblas_get_num_threads"));
  ASSERT_NE(parallel, nullptr);
  ASSERT_NE(threads, nullptr);
  EXPECT_EQ(parallel(), 1) << "OpenBLAS is not the pthread build";
  EXPECT_EQ(threads(), 1);
  dlclose(openblas);
}

// Two instances share one module; 8 threads run batches on them at once
// (execute is serialised per instance, as the host does) and must see
// exactly the serial results.
TEST_F(TorchBackendTest, ConcurrentInstancesMatchSerialResults) {
  auto model = MustLoad(File("mlp"), R"(
    name: "mlp" max_batch_size: 16
    input { name: "INPUT__0" data_type: TYPE_FP32 dims: [64] }
    output { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [8] }
    parameters { key: "intra_op_thread_count" value { string_value: "1" } })",
                        2);
  ASSERT_NE(model, nullptr);
  std::unique_ptr<BackendInstance> instances[2] = {MustInstance(*model, 0),
                                                   MustInstance(*model, 1)};
  ASSERT_NE(instances[1], nullptr);
  constexpr int kThreads = 8, kRounds = 10, kInputs = 16;
  std::vector<std::vector<char>> inputs;
  std::vector<std::vector<float>> serial;
  for (int i = 0; i < kInputs; ++i) {
    std::vector<float> x(64 * (1 + i % 3));
    for (size_t k = 0; k < x.size(); ++k) x[k] = std::sin(0.1f * (i * 64 + k));
    inputs.push_back(FloatBytes(x));
    const int64_t batch = 1 + i % 3;
    auto out = RunBatchSync(*instances[0], {View("INPUT__0", DataType::kFp32,
                                                 {batch, 64}, inputs[i])});
    ASSERT_TRUE(out.ok()) << out.status();
    serial.push_back(AsFloats((*out)[0]));
  }
  std::mutex instance_mu[2];
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0}, failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const int which = t % 2;
      for (int r = 0; r < kRounds; ++r) {
        const int i = (t * kRounds + r) % kInputs;
        const int64_t batch = 1 + i % 3;
        std::lock_guard<std::mutex> lock(instance_mu[which]);
        auto out = RunBatchSync(
            *instances[which],
            {View("INPUT__0", DataType::kFp32, {batch, 64}, inputs[i])});
        if (!out.ok()) {
          ++failures;
        } else if (AsFloats((*out)[0]) != serial[i]) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

// ---- The plugin's config reading, without libtorch. ----

TEST(TorchModelSpec, ConventionIndex) {
  EXPECT_EQ(torch_backend::ConventionIndex("INPUT__0"), 0);
  EXPECT_EQ(torch_backend::ConventionIndex("OUTPUT__12"), 12);
  EXPECT_EQ(torch_backend::ConventionIndex("ids__3"), 3);
  EXPECT_EQ(torch_backend::ConventionIndex("INPUT0"), std::nullopt);
  EXPECT_EQ(torch_backend::ConventionIndex("INPUT__"), std::nullopt);
  EXPECT_EQ(torch_backend::ConventionIndex("INPUT__x1"), std::nullopt);
  EXPECT_EQ(torch_backend::ConventionIndex("__1"), std::nullopt);
}

TEST(TorchModelSpec, IntraOpThreadsDivideTheCores) {
  torch_backend::ModelSpec spec;
  spec.instance_count = 4;
  EXPECT_EQ(torch_backend::IntraOpThreadsPerInstance(spec, 16), 4);
  EXPECT_EQ(torch_backend::IntraOpThreadsPerInstance(spec, 2), 1);
  spec.parameters["INTRA_OP_THREAD_COUNT"] = "3";  // Triton's spelling
  EXPECT_EQ(torch_backend::IntraOpThreadsPerInstance(spec, 16), 3);
  spec.parameters["intra_op_thread_count"] = "5";  // serval's wins
  EXPECT_EQ(torch_backend::IntraOpThreadsPerInstance(spec, 16), 5);
  spec.parameters["inter_op_thread_count"] = "0";
  EXPECT_THROW(torch_backend::ReadThreadParameters(spec), std::exception);
}

// ---- The example repository against PyTorch's own outputs. ----

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class TorchExampleTest : public PluginTest {
 protected:
  void CheckModel(const std::string& name, double rtol) {
    const fs::path dir = fs::path(SERVAL_SOURCE_DIR) / "examples/models" / name;
    if (!fs::exists(dir / "1/model.pt") ||
        !fs::exists(dir / "reference.json")) {
      GTEST_SKIP() << name << " not generated (run scripts/make_models.py)";
    }
    auto model =
        MustLoad((dir / "1/model.pt").string(), ReadFile(dir / "config.pbtxt"));
    ASSERT_NE(model, nullptr);
    auto instance = MustInstance(*model);
    ASSERT_NE(instance, nullptr);

    simdjson::dom::parser parser;
    simdjson::dom::element root =
        parser.load((dir / "reference.json").string());
    int cases = 0;
    for (simdjson::dom::element c : root["cases"].get_array()) {
      std::vector<std::vector<char>> storage;
      std::vector<TensorView> inputs;
      for (simdjson::dom::element in : c["inputs"].get_array()) {
        Shape shape;
        for (int64_t d : in["shape"].get_array()) shape.push_back(d);
        const std::string file(std::string_view(in["file"].get_string()));
        const std::string bytes = ReadFile(dir / file);
        storage.emplace_back(bytes.begin(), bytes.end());
        inputs.push_back(TensorView{
            std::string(std::string_view(in["name"].get_string())),
            *DataTypeFromApiName(std::string_view(in["datatype"].get_string())),
            shape, nullptr, 0});
      }
      for (size_t i = 0; i < inputs.size(); ++i) {
        inputs[i].data = storage[i].data();
        inputs[i].byte_size = storage[i].size();
      }
      auto out = RunBatchSync(*instance, inputs);
      ASSERT_TRUE(out.ok()) << out.status();
      for (simdjson::dom::element ref : c["outputs"].get_array()) {
        const std::string out_name(std::string_view(ref["name"].get_string()));
        const OutputTensor* got = Find(*out, out_name);
        ASSERT_NE(got, nullptr) << out_name;
        const std::string bytes = ReadFile(
            dir / std::string(std::string_view(ref["file"].get_string())));
        std::vector<float> want(bytes.size() / sizeof(float));
        std::memcpy(want.data(), bytes.data(), bytes.size());
        const std::vector<float> have = AsFloats(*got);
        ASSERT_EQ(have.size(), want.size());
        float scale = 0;
        for (float w : want) scale = std::max(scale, std::fabs(w));
        // Relative to the tensor's magnitude, as the integration test
        // compares: the reference may come from other BLAS kernels (SSE3 in
        // the Python process, AVX-512 here), which sum in another order.
        const double tol = rtol * scale;
        for (size_t k = 0; k < want.size(); ++k) {
          ASSERT_NEAR(have[k], want[k], tol) << name << " element " << k;
        }
      }
      ++cases;
    }
    EXPECT_GT(cases, 0);
  }
};

TEST_F(TorchExampleTest, Mlp) { CheckModel("mlp_torch", 1e-5); }
TEST_F(TorchExampleTest, TextLstm) { CheckModel("text_lstm_torch", 1e-4); }
TEST_F(TorchExampleTest, Resnet50) { CheckModel("resnet50_torch", 1e-4); }

}  // namespace
}  // namespace serval
