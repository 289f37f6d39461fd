#include "config/config_defaults.h"

#include "config/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::serval::testing::ParseOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = inference::ModelInstanceGroup;

TEST(ConfigDefaultsTest, EmptyConfigGetsTritonDefaults) {
  inference::ModelConfig config;
  ASSERT_TRUE(ApplyConfigDefaults("dir_name", {}, &config).ok());
  EXPECT_EQ(config.name(), "dir_name");
  EXPECT_TRUE(config.has_max_batch_size());
  EXPECT_EQ(config.max_batch_size(), 0);
  EXPECT_EQ(config.version_policy().latest().num_versions(), 1u);
  ASSERT_EQ(config.instance_group_size(), 1);
  EXPECT_EQ(config.instance_group(0).count(), 1);
  EXPECT_EQ(config.instance_group(0).kind(), Kind::KIND_CPU);
  EXPECT_EQ(config.instance_group(0).name(), "dir_name_0");
  EXPECT_FALSE(config.has_dynamic_batching());
}

TEST(ConfigDefaultsTest, WrittenValuesAreKept) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    name: "given"
    max_batch_size: 4
    version_policy { all {} }
    instance_group { name: "g" count: 3 kind: KIND_CPU }
  )pb");
  ASSERT_TRUE(ApplyConfigDefaults("dir", {}, &config).ok());
  EXPECT_EQ(config.name(), "given");
  EXPECT_EQ(config.max_batch_size(), 4);
  EXPECT_TRUE(config.version_policy().has_all());
  ASSERT_EQ(config.instance_group_size(), 1);
  EXPECT_EQ(config.instance_group(0).name(), "g");
  EXPECT_EQ(config.instance_group(0).count(), 3);
}

TEST(ConfigDefaultsTest, GroupCountZeroBecomesOneAndNamesFollowIndex) {
  inference::ModelConfig config = ParseOrDie(R"pb(
    instance_group { count: 0 kind: KIND_CPU }
    instance_group { count: -2 kind: KIND_CPU }
  )pb");
  ASSERT_TRUE(ApplyConfigDefaults("m", {}, &config).ok());
  EXPECT_EQ(config.instance_group(0).count(), 1);
  EXPECT_EQ(config.instance_group(1).count(), -2);  // left for validation
  EXPECT_EQ(config.instance_group(1).name(), "m_1");
}

TEST(ConfigDefaultsTest, KindAutoIsCpuWithoutGpus) {
  inference::ModelConfig config =
      ParseOrDie("instance_group { kind: KIND_AUTO }");
  ASSERT_TRUE(ApplyConfigDefaults("m", {.visible_gpus = 0}, &config).ok());
  EXPECT_EQ(config.instance_group(0).kind(), Kind::KIND_CPU);
}

TEST(ConfigDefaultsTest, KindAutoIsGpuOnEveryVisibleGpu) {
  inference::ModelConfig config = ParseOrDie("instance_group { count: 2 }");
  ASSERT_TRUE(ApplyConfigDefaults("m", {.visible_gpus = 2}, &config).ok());
  EXPECT_EQ(config.instance_group(0).kind(), Kind::KIND_GPU);
  EXPECT_THAT(config.instance_group(0).gpus(), ElementsAre(0, 1));
}

TEST(ConfigDefaultsTest, KindAutoFallsBackToCpuWhenAListedGpuIsMissing) {
  inference::ModelConfig config =
      ParseOrDie("instance_group { kind: KIND_AUTO gpus: [ 3 ] }");
  ASSERT_TRUE(ApplyConfigDefaults("m", {.visible_gpus = 1}, &config).ok());
  EXPECT_EQ(config.instance_group(0).kind(), Kind::KIND_CPU);
}

TEST(ConfigDefaultsTest, KindGpuWithoutGpusListsEveryVisibleGpu) {
  inference::ModelConfig config =
      ParseOrDie("instance_group { kind: KIND_GPU }");
  ASSERT_TRUE(ApplyConfigDefaults("m", {.visible_gpus = 3}, &config).ok());
  EXPECT_THAT(config.instance_group(0).gpus(), ElementsAre(0, 1, 2));
}

TEST(ConfigDefaultsTest, KindGpuWithoutAnyVisibleGpuIsAnError) {
  inference::ModelConfig config =
      ParseOrDie("instance_group { kind: KIND_GPU }");
  absl::Status status = ApplyConfigDefaults("m", {.visible_gpus = 0}, &config);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("model 'm': instance_group[0] 'm_0': kind is "
                        "KIND_GPU but no GPU is visible"));
}

TEST(ConfigDefaultsTest, GpuIdBeyondVisibleGpusIsAnError) {
  inference::ModelConfig config =
      ParseOrDie("instance_group { kind: KIND_GPU gpus: [ 0, 2 ] }");
  absl::Status status = ApplyConfigDefaults("m", {.visible_gpus = 2}, &config);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("gpus lists GPU 2 but only 2 GPU(s) are visible"));
}

TEST(ConfigDefaultsTest, DefaultPriorityLevelIsTheLeastUrgent) {
  inference::ModelConfig config =
      ParseOrDie("dynamic_batching { priority_levels: 4 }");
  ASSERT_TRUE(ApplyConfigDefaults("m", {}, &config).ok());
  EXPECT_EQ(config.dynamic_batching().default_priority_level(), 4u);
}

TEST(ConfigDefaultsTest, WrittenDefaultPriorityLevelIsKept) {
  inference::ModelConfig config = ParseOrDie(
      "dynamic_batching { priority_levels: 4 default_priority_level: 1 }");
  ASSERT_TRUE(ApplyConfigDefaults("m", {}, &config).ok());
  EXPECT_EQ(config.dynamic_batching().default_priority_level(), 1u);
}

TEST(ConfigDefaultsTest, WarmupBatchSizeZeroBecomesOne) {
  inference::ModelConfig config =
      ParseOrDie("model_warmup { name: \"w\" } model_warmup { batch_size: 3 }");
  ASSERT_TRUE(ApplyConfigDefaults("m", {}, &config).ok());
  EXPECT_EQ(config.model_warmup(0).batch_size(), 1u);
  EXPECT_EQ(config.model_warmup(1).batch_size(), 3u);
}

}  // namespace
}  // namespace serval
