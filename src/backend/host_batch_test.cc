// HostBatch through the real identity plugin: gather, scatter, zero-copy
// for single requests, BYTES, requested outputs.
#include "backend/host_batch.h"

#include <cstring>

#include "backend/backend_model.h"
#include "backend/sync_runner.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace serval {

inference::ModelConfig Config(const std::string& text) {
  inference::ModelConfig c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c));
  return c;
}

namespace {

class HostBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lib = BackendLibrary::Open(std::string(SERVAL_TEST_BACKEND_DIR) +
                                    "/identity/libserval_identity.so");
    ASSERT_TRUE(lib.ok()) << lib.status();
    BackendModelOptions o;
    o.name = "ident";
    o.config = Config(R"(
      name: "ident" backend: "identity" max_batch_size: 8
      input [ { name: "A" data_type: TYPE_INT32 dims: [ 2 ] },
              { name: "S" data_type: TYPE_STRING dims: [ 1 ] } ]
      output [ { name: "OA" data_type: TYPE_INT32 dims: [ 2 ] },
               { name: "OS" data_type: TYPE_STRING dims: [ 1 ] } ])");
    auto model = BackendModel::Create(*lib, o);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *model;
    auto inst = model_->CreateInstance(SERVAL_INSTANCE_CPU, -1, 0);
    ASSERT_TRUE(inst.ok()) << inst.status();
    instance_ = std::move(*inst);
  }

  std::shared_ptr<BackendModel> model_;
  std::unique_ptr<BackendInstance> instance_;
};

struct Item {
  std::vector<int32_t> ints;
  std::string strings;
  std::vector<TensorView> views;
  std::vector<std::string> requested;
  std::vector<OutputTensor> outputs;
  Item(int64_t batch, int32_t base) {
    for (int64_t i = 0; i < batch * 2; ++i) ints.push_back(base + i);
    for (int64_t i = 0; i < batch; ++i) {
      AppendBytesElement(std::string(base % 7 + i, 'x'), &strings);
    }
    views.push_back({"A",
                     DataType::kInt32,
                     {batch, 2},
                     reinterpret_cast<const char*>(ints.data()),
                     ints.size() * 4});
    views.push_back(
        {"S", DataType::kBytes, {batch, 1}, strings.data(), strings.size()});
  }
  BatchEntry Entry() { return {views, requested, &outputs}; }
};

TEST_F(HostBatchTest, GathersAndScattersSeveralRequests) {
  Item a(1, 100), b(3, 200), c(2, 300);
  c.requested = {"OS"};
  HostBatch batch(model_->io());
  std::vector<BatchEntry> entries = {a.Entry(), b.Entry(), c.Entry()};
  BatchResult result = batch.Run(*instance_, entries);
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_LE(result.times.start_ns, result.times.end_ns);
  for (Item* item : {&a, &b}) {
    ASSERT_EQ(item->outputs.size(), 2u);
    EXPECT_EQ(item->outputs[0].name, "OA");
    EXPECT_EQ(item->outputs[0].shape, item->views[0].shape);
    EXPECT_EQ(std::memcmp(item->outputs[0].data.data(), item->ints.data(),
                          item->ints.size() * 4),
              0);
    EXPECT_EQ(
        std::string(item->outputs[1].data.data(), item->outputs[1].data.size()),
        item->strings);
  }
  ASSERT_EQ(c.outputs.size(), 1u);  // only what it asked for
  EXPECT_EQ(c.outputs[0].name, "OS");
  EXPECT_EQ(std::string(c.outputs[0].data.data(), c.outputs[0].data.size()),
            c.strings);
}

TEST_F(HostBatchTest, OneRequestFailsAloneAndTheOthersAnswer) {
  auto lib = BackendLibrary::Open(std::string(SERVAL_TEST_BACKEND_DIR) +
                                  "/identity/libserval_identity.so");
  ASSERT_TRUE(lib.ok());
  BackendModelOptions o;
  o.name = "picky";
  o.config = Config(R"(
    name: "picky" backend: "identity" max_batch_size: 8
    input [ { name: "A" data_type: TYPE_INT32 dims: [ 2 ] },
            { name: "S" data_type: TYPE_STRING dims: [ 1 ] } ]
    output [ { name: "OA" data_type: TYPE_INT32 dims: [ 2 ] },
             { name: "OS" data_type: TYPE_STRING dims: [ 1 ] } ]
    parameters { key: "fail_first_byte" value { string_value: "7" } })");
  auto model = BackendModel::Create(*lib, o);
  ASSERT_TRUE(model.ok()) << model.status();
  auto inst = (*model)->CreateInstance(SERVAL_INSTANCE_CPU, -1, 0);
  ASSERT_TRUE(inst.ok());
  Item a(2, 100), bad(3, 7), c(1, 300);
  absl::Status sa, sbad, sc;
  HostBatch batch((*model)->io());
  std::vector<BatchEntry> entries = {a.Entry(), bad.Entry(), c.Entry()};
  entries[0].status = &sa;
  entries[1].status = &sbad;
  entries[2].status = &sc;
  BatchResult result = batch.Run(**inst, entries);
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_TRUE(sa.ok());
  EXPECT_TRUE(sc.ok());
  EXPECT_EQ(sbad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sbad.message()),
              ::testing::HasSubstr("fail_first_byte"));
  EXPECT_TRUE(bad.outputs.empty());
  // The others get their own rows, past the failed request's.
  ASSERT_EQ(c.outputs.size(), 2u);
  EXPECT_EQ(std::memcmp(c.outputs[0].data.data(), c.ints.data(), 8), 0);
  ASSERT_EQ(a.outputs.size(), 2u);
  // A reused batch forgets the failure.
  absl::Status s2;
  std::vector<BatchEntry> second = {a.Entry()};
  second[0].status = &s2;
  a.outputs.clear();
  ASSERT_TRUE(batch.Run(**inst, second).status.ok());
  EXPECT_TRUE(s2.ok());
  EXPECT_EQ(a.outputs.size(), 2u);
}

TEST_F(HostBatchTest, ReusedBatchForgetsThePreviousOne) {
  HostBatch batch(model_->io());
  Item a(1, 100), b(3, 200);
  std::vector<BatchEntry> two = {a.Entry(), b.Entry()};
  ASSERT_TRUE(batch.Run(*instance_, two).status.ok());
  Item c(2, 300);
  c.requested = {"OA"};
  std::vector<BatchEntry> one = {c.Entry()};
  BatchResult result = batch.Run(*instance_, one);
  ASSERT_TRUE(result.status.ok()) << result.status;
  ASSERT_EQ(c.outputs.size(), 1u);
  EXPECT_EQ(c.outputs[0].shape, (Shape{2, 2}));
  EXPECT_EQ(std::memcmp(c.outputs[0].data.data(), c.ints.data(), 16), 0);
}

TEST_F(HostBatchTest, SyncRunnerMatchesInputsByName) {
  Item a(2, 5);
  std::vector<TensorView> reversed = {a.views[1], a.views[0]};
  auto out = RunBatchSync(*instance_, reversed, {"OA"});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(std::memcmp((*out)[0].data.data(), a.ints.data(), 16), 0);
  auto missing = RunBatchSync(*instance_, {a.views[0]});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing input 'S'"),
            std::string::npos);
}

}  // namespace
}  // namespace serval

namespace serval {
namespace {

TEST(HostBatchReshapeTest, BackendSeesReshapeClientSeesDims) {
  auto lib = BackendLibrary::Open(std::string(SERVAL_TEST_BACKEND_DIR) +
                                  "/identity/libserval_identity.so");
  ASSERT_TRUE(lib.ok()) << lib.status();
  BackendModelOptions o;
  o.name = "reshaped";
  o.config = Config(R"(
    name: "reshaped" backend: "identity" max_batch_size: 4
    input [ { name: "X" data_type: TYPE_FP32 dims: [ 4 ] reshape { shape: [ 2, 2 ] } } ]
    output [ { name: "Y" data_type: TYPE_FP32 dims: [ 4 ] reshape { shape: [ 2, 2 ] } } ])");
  auto model = BackendModel::Create(*lib, o);
  ASSERT_TRUE(model.ok()) << model.status();
  auto inst = (*model)->CreateInstance(SERVAL_INSTANCE_CPU, -1, 0);
  ASSERT_TRUE(inst.ok());
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  auto out = RunBatchSync(**inst, {{"X",
                                    DataType::kFp32,
                                    {2, 4},
                                    reinterpret_cast<const char*>(x.data()),
                                    32}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].shape, (Shape{2, 4}));
  EXPECT_EQ(std::memcmp((*out)[0].data.data(), x.data(), 32), 0);
}

}  // namespace
}  // namespace serval
