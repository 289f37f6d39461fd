#include "server/classification.h"

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/output_options.h"

namespace serval {
namespace {

template <typename T>
OutputTensor Tensor(DataType type, Shape shape, const std::vector<T>& values) {
  OutputTensor t;
  t.name = "OUT";
  t.datatype = type;
  t.shape = std::move(shape);
  t.data.Resize(values.size() * sizeof(T));
  std::memcpy(t.data.data(), values.data(), values.size() * sizeof(T));
  return t;
}

std::vector<std::string> Elements(const OutputTensor& t) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos + 4 <= t.data.size()) {
    uint32_t len;
    std::memcpy(&len, t.data.data() + pos, 4);
    out.emplace_back(t.data.data() + pos + 4, len);
    pos += 4 + len;
  }
  return out;
}

TEST(ClassifyTest, TopKPerBatchItemWithLabels) {
  auto t = Tensor<float>(DataType::kFp32, {2, 3},
                         {0.1f, 0.7f, 0.2f,  //
                          5.f, -1.f, 6.f});
  auto r = Classify(t, 2, /*batching=*/true, {"cat", "dog", "eel"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->datatype, DataType::kBytes);
  EXPECT_EQ(r->shape, (Shape{2, 2}));
  EXPECT_THAT(Elements(*r),
              testing::ElementsAre("0.700000:1:dog", "0.200000:2:eel",
                                   "6.000000:2:eel", "5.000000:0:cat"));
}

TEST(ClassifyTest, WithoutLabelsAndKCappedAtTheElementCount) {
  auto t = Tensor<int32_t>(DataType::kInt32, {4}, {3, 9, 3, -2});
  auto r = Classify(t, 10, /*batching=*/false, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->shape, (Shape{4}));
  // Ties keep the lower index first.
  EXPECT_THAT(Elements(*r), testing::ElementsAre("9:1", "3:0", "3:2", "-2:3"));
}

TEST(ClassifyTest, LabelsShorterThanTheOutputLeaveTheRestUnlabelled) {
  auto t = Tensor<int8_t>(DataType::kInt8, {3}, {1, 2, 3});
  auto r = Classify(t, 3, false, {"a"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Elements(*r), testing::ElementsAre("3:2", "2:1", "1:0:a"));
}

TEST(ClassifyTest, EveryNumericTypeIsAccepted) {
  EXPECT_TRUE(
      Classify(Tensor<uint8_t>(DataType::kUint8, {2}, {1, 2}), 1, false, {})
          .ok());
  EXPECT_TRUE(
      Classify(Tensor<uint16_t>(DataType::kUint16, {2}, {1, 2}), 1, false, {})
          .ok());
  EXPECT_TRUE(
      Classify(Tensor<uint32_t>(DataType::kUint32, {2}, {1, 2}), 1, false, {})
          .ok());
  EXPECT_TRUE(
      Classify(Tensor<uint64_t>(DataType::kUint64, {2}, {1, 2}), 1, false, {})
          .ok());
  EXPECT_TRUE(
      Classify(Tensor<int16_t>(DataType::kInt16, {2}, {1, 2}), 1, false, {})
          .ok());
  EXPECT_TRUE(
      Classify(Tensor<int64_t>(DataType::kInt64, {2}, {1, 2}), 1, false, {})
          .ok());
  auto d =
      Classify(Tensor<double>(DataType::kFp64, {2}, {0.5, 0.25}), 1, false, {});
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(Elements(*d), testing::ElementsAre("0.500000:0"));
}

TEST(ClassifyTest, NonNumericOutputsAreRefused) {
  OutputTensor bytes;
  bytes.name = "TEXT";
  bytes.datatype = DataType::kBytes;
  bytes.shape = {1};
  auto r = Classify(bytes, 1, false, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              testing::HasSubstr("class result not available for output "
                                 "'TEXT' due to unsupported type 'BYTES'"));
  auto b = Classify(Tensor<uint8_t>(DataType::kBool, {1}, {1}), 1, false, {});
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
}

const std::vector<std::string>& NoLabels(std::string_view) {
  static const std::vector<std::string> none;
  return none;
}

TEST(ApplyOutputOptionsTest, SharedMemoryOutputsAreCopiedAndLeftEmpty) {
  std::vector<OutputTensor> outputs;
  outputs.push_back(Tensor<int32_t>(DataType::kInt32, {1, 2}, {7, 8}));
  char region[16] = {};
  OutputOptions o;
  o.name = "OUT";
  o.shared_memory = region + 4;
  o.shared_memory_size = 8;
  ASSERT_TRUE(ApplyOutputOptions({o}, true, NoLabels, &outputs).ok());
  EXPECT_TRUE(outputs[0].in_shared_memory);
  EXPECT_EQ(outputs[0].data.size(), 0u);
  EXPECT_EQ(outputs[0].shape, (Shape{1, 2}));
  int32_t copied[2];
  std::memcpy(copied, region + 4, 8);
  EXPECT_EQ(copied[0], 7);
  EXPECT_EQ(copied[1], 8);
}

TEST(ApplyOutputOptionsTest, ATooSmallRegionIsAnError) {
  std::vector<OutputTensor> outputs;
  outputs.push_back(Tensor<int32_t>(DataType::kInt32, {1, 2}, {7, 8}));
  char region[4] = {};
  OutputOptions o;
  o.name = "OUT";
  o.shared_memory = region;
  o.shared_memory_size = 4;
  auto s = ApplyOutputOptions({o}, true, NoLabels, &outputs);
  EXPECT_THAT(s.message(), testing::HasSubstr("should be at least 8 bytes"));
}

TEST(ApplyOutputOptionsTest, ClassificationThenSharedMemory) {
  std::vector<OutputTensor> outputs;
  outputs.push_back(Tensor<float>(DataType::kFp32, {1, 2}, {0.25f, 0.75f}));
  char region[64] = {};
  OutputOptions o;
  o.name = "OUT";
  o.classification = 1;
  o.shared_memory = region;
  o.shared_memory_size = sizeof(region);
  ASSERT_TRUE(ApplyOutputOptions({o}, true, NoLabels, &outputs).ok());
  EXPECT_EQ(outputs[0].datatype, DataType::kBytes);
  EXPECT_EQ(outputs[0].shape, (Shape{1, 1}));
  uint32_t len;
  std::memcpy(&len, region, 4);
  EXPECT_EQ(std::string(region + 4, len), "0.750000:1");
}

}  // namespace
}  // namespace serval
