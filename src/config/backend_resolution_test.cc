#include "config/backend_resolution.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::testing::HasSubstr;

inference::ModelConfig Config(std::string backend, std::string platform,
                              std::string filename = "") {
  inference::ModelConfig config;
  config.set_name("m");
  config.set_backend(backend);
  config.set_platform(platform);
  config.set_default_model_filename(filename);
  return config;
}

struct Row {
  std::string backend;
  std::string platform;
  std::string plugin;
  std::string resolved_backend;
  std::string reported_platform;
  std::string file;
};

class ResolutionTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(ResolutionTableTest, Resolves) {
  const Row& row = GetParam();
  auto choice = ResolveBackend(Config(row.backend, row.platform));
  ASSERT_TRUE(choice.ok()) << choice.status();
  EXPECT_EQ(choice->plugin, row.plugin);
  EXPECT_EQ(choice->backend, row.resolved_backend);
  EXPECT_EQ(choice->platform, row.reported_platform);
  EXPECT_EQ(choice->model_filename, row.file);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ResolutionTableTest,
    ::testing::Values(
        Row{"onnxruntime", "", "onnxruntime", "onnxruntime", "onnxruntime_onnx",
            "model.onnx"},
        Row{"", "onnxruntime_onnx", "onnxruntime", "onnxruntime",
            "onnxruntime_onnx", "model.onnx"},
        Row{"onnxruntime", "onnxruntime_onnx", "onnxruntime", "onnxruntime",
            "onnxruntime_onnx", "model.onnx"},
        Row{"pytorch", "", "torch", "pytorch", "pytorch_libtorch", "model.pt"},
        Row{"", "pytorch_libtorch", "torch", "pytorch", "pytorch_libtorch",
            "model.pt"},
        Row{"identity", "", "identity", "identity", "identity", ""},
        Row{"my_backend-2", "", "my_backend-2", "my_backend-2", "my_backend-2",
            ""}));

TEST(BackendResolutionTest, DefaultModelFilenameIsHonoured) {
  auto onnx = ResolveBackend(Config("onnxruntime", "", "resnet.onnx"));
  ASSERT_TRUE(onnx.ok());
  EXPECT_EQ(onnx->model_filename, "resnet.onnx");
  auto user = ResolveBackend(Config("custom", "", "weights.bin"));
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->model_filename, "weights.bin");
}

TEST(BackendResolutionTest, NeitherBackendNorPlatformIsAnError) {
  auto choice = ResolveBackend(Config("", ""));
  ASSERT_FALSE(choice.ok());
  EXPECT_EQ(choice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(choice.status().message()),
              HasSubstr("model 'm': neither 'backend' nor 'platform'"));
}

TEST(BackendResolutionTest, ConflictNamesBoth) {
  auto choice = ResolveBackend(Config("pytorch", "onnxruntime_onnx"));
  ASSERT_FALSE(choice.ok());
  EXPECT_EQ(choice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(choice.status().message()),
              HasSubstr("platform 'onnxruntime_onnx' and backend 'pytorch' "
                        "disagree"));
}

TEST(BackendResolutionTest, UnknownPlatformIsAnError) {
  auto choice = ResolveBackend(Config("", "tensorrt_plan"));
  ASSERT_FALSE(choice.ok());
  EXPECT_THAT(std::string(choice.status().message()),
              HasSubstr("platform 'tensorrt_plan' is not supported"));
}

TEST(BackendResolutionTest, UnknownPlatformWithBackendNamesBoth) {
  auto choice = ResolveBackend(Config("tensorflow", "tensorflow_savedmodel"));
  ASSERT_FALSE(choice.ok());
  EXPECT_THAT(std::string(choice.status().message()),
              HasSubstr("platform 'tensorflow_savedmodel' (backend "
                        "'tensorflow') is not supported"));
}

TEST(BackendResolutionTest, BackendNameThatIsNotAPlainWordIsRefused) {
  for (const char* name : {"../evil", "a/b", "a b", "x.so"}) {
    auto choice = ResolveBackend(Config(name, ""));
    ASSERT_FALSE(choice.ok()) << name;
    EXPECT_THAT(std::string(choice.status().message()),
                HasSubstr("is not a valid backend name"));
  }
}

TEST(BackendResolutionTest, BackendForModelFile) {
  EXPECT_EQ(BackendForModelFile("model.onnx"), "onnxruntime");
  EXPECT_EQ(BackendForModelFile("model.pt"), "pytorch");
  EXPECT_EQ(BackendForModelFile("model.plan"), std::nullopt);
  EXPECT_EQ(BackendForModelFile(""), std::nullopt);
}

}  // namespace
}  // namespace serval

namespace serval {
namespace {

TEST(BackendResolutionTest, AnEnsembleHasNoPlugin) {
  auto choice = ResolveBackend(Config("", "ensemble"));
  ASSERT_TRUE(choice.ok()) << choice.status();
  EXPECT_TRUE(choice->plugin.empty());
  EXPECT_EQ(choice->platform, "ensemble");
  EXPECT_TRUE(choice->model_filename.empty());
  EXPECT_TRUE(IsEnsemble(Config("", "ensemble")));
  auto both = ResolveBackend(Config("onnxruntime", "ensemble"));
  EXPECT_THAT(std::string(both.status().message()),
              HasSubstr("platform 'ensemble' and backend 'onnxruntime' "
                        "disagree"));
}

}  // namespace
TEST(BackendResolutionTest, PlainFileNamesOnly) {
  EXPECT_TRUE(IsPlainFileName("model.onnx"));
  EXPECT_TRUE(IsPlainFileName("..model"));
  const std::string_view bads[] = {
      "", ".", "..", "a/b", "/etc/passwd", "a\\b", std::string_view("a\0b", 3)};
  for (std::string_view bad : bads) {
    EXPECT_FALSE(IsPlainFileName(bad)) << bad;
  }
}

TEST(BackendResolutionTest, AModelFileOutsideTheVersionIsRefused) {
  inference::ModelConfig c;
  c.set_backend("onnxruntime");
  c.set_default_model_filename("../../secret.onnx");
  auto choice = ResolveBackend(c);
  ASSERT_FALSE(choice.ok());
  EXPECT_NE(choice.status().message().find("default_model_filename must be"),
            std::string::npos);
}

}  // namespace serval
