#include "lifecycle/warmup.h"

#include <cstring>

#include "gtest/gtest.h"
#include "repository/test_tree.h"
#include "tensor/tensor.h"

namespace serval {
namespace {

inference::ModelConfig Config(int max_batch) {
  inference::ModelConfig c;
  c.set_name("m");
  c.set_max_batch_size(max_batch);
  auto* in = c.add_input();
  in->set_name("X");
  in->set_data_type(inference::TYPE_FP32);
  in->add_dims(2);
  in->add_dims(3);
  auto* s = c.add_input();
  s->set_name("S");
  s->set_data_type(inference::TYPE_STRING);
  s->add_dims(2);
  return c;
}

inference::ModelWarmup::Input* AddInput(inference::ModelWarmup* w,
                                        const std::string& name,
                                        inference::DataType type,
                                        std::vector<int64_t> dims) {
  auto& in = (*w->mutable_inputs())[name];
  in.set_data_type(type);
  for (int64_t d : dims) in.add_dims(d);
  return &in;
}

ModelSpec Io(const inference::ModelConfig& c) {
  return *ModelSpec::FromConfig(c);
}

TEST(BuildWarmupSamplesTest, ZeroDataWithBatchDimension) {
  auto c = Config(8);
  auto* w = c.add_model_warmup();
  w->set_name("zeros");
  w->set_batch_size(4);
  w->set_count(3);
  AddInput(w, "X", inference::TYPE_FP32, {2, 3})->set_zero_data(true);
  AddInput(w, "S", inference::TYPE_STRING, {2})->set_zero_data(true);
  auto samples = BuildWarmupSamples(c, Io(c), "/nonexistent");
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 1u);
  const WarmupSample& s = (*samples)[0];
  EXPECT_EQ(s.runs, 3u);
  EXPECT_EQ(s.batch_size, 4);
  ASSERT_EQ(s.inputs.size(), 2u);
  EXPECT_EQ(s.inputs[0].name, "X");  // model order
  EXPECT_EQ(s.inputs[0].shape, (Shape{4, 2, 3}));
  EXPECT_EQ(s.inputs[0].bytes, std::string(4 * 6 * 4, '\0'));
  EXPECT_EQ(s.inputs[1].shape, (Shape{4, 2}));
  EXPECT_EQ(s.inputs[1].bytes, std::string(8 * 4, '\0'));  // 8 empty strings
}

TEST(BuildWarmupSamplesTest, RandomFloatsAreInUnitIntervalAndSeeded) {
  auto c = Config(0);
  auto* w = c.add_model_warmup();
  w->set_name("r");
  w->set_batch_size(1);
  AddInput(w, "X", inference::TYPE_FP32, {2, 3})->set_random_data(true);
  AddInput(w, "S", inference::TYPE_STRING, {2})->set_random_data(true);
  auto a = BuildWarmupSamples(c, Io(c), "", 7);
  auto b = BuildWarmupSamples(c, Io(c), "", 7);
  ASSERT_TRUE(a.ok()) << a.status();
  const WarmupTensor& x = (*a)[0].inputs[0];
  EXPECT_EQ(x.shape, (Shape{2, 3}));  // no batch dim: the model does not batch
  ASSERT_EQ(x.bytes.size(), 24u);
  for (int i = 0; i < 6; ++i) {
    float v;
    std::memcpy(&v, x.bytes.data() + 4 * i, 4);
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
  EXPECT_EQ((*a)[0].runs, 1u);  // count 0 runs once
  EXPECT_EQ(x.bytes, (*b)[0].inputs[0].bytes);
  EXPECT_EQ(*CountBytesElements((*a)[0].inputs[1].bytes), 2);
}

TEST(BuildWarmupSamplesTest, InputDataFileMustMatchTheShape) {
  TestTree tree;
  tree.File("warmup/x.bin", std::string(24, '\1'));
  tree.File("warmup/short.bin", std::string(20, '\1'));
  std::string s_bytes;
  AppendBytesElement("ab", &s_bytes);
  AppendBytesElement("c", &s_bytes);
  tree.File("warmup/s.bin", s_bytes);
  auto c = Config(0);
  auto* w = c.add_model_warmup();
  w->set_name("file");
  auto* x = AddInput(w, "X", inference::TYPE_FP32, {2, 3});
  x->set_input_data_file("x.bin");
  AddInput(w, "S", inference::TYPE_STRING, {2})->set_input_data_file("s.bin");
  auto ok = BuildWarmupSamples(c, Io(c), tree.root().string());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[0].inputs[0].bytes, std::string(24, '\1'));
  EXPECT_EQ((*ok)[0].inputs[1].bytes, s_bytes);

  x->set_input_data_file("short.bin");
  auto short_file = BuildWarmupSamples(c, Io(c), tree.root().string());
  ASSERT_FALSE(short_file.ok());
  EXPECT_NE(std::string(short_file.status().message()).find("expected 24"),
            std::string::npos)
      << short_file.status();
  for (const char* bad : {"missing.bin", "../x.bin", "/etc/passwd"}) {
    x->set_input_data_file(bad);
    EXPECT_FALSE(BuildWarmupSamples(c, Io(c), tree.root().string()).ok())
        << bad;
  }
}

TEST(BuildWarmupSamplesTest, EveryInputIsNeeded) {
  auto c = Config(0);
  auto* w = c.add_model_warmup();
  w->set_name("partial");
  AddInput(w, "X", inference::TYPE_FP32, {2, 3})->set_zero_data(true);
  auto r = BuildWarmupSamples(c, Io(c), "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("'S'"), std::string::npos);
}

}  // namespace
}  // namespace serval
