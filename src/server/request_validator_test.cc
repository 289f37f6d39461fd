#include "server/request_validator.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace serval {
namespace {

// Model "m": IN0 FP32 [-1,4], IN1 BYTES [-1,2] (batching, max 8); OUT0.
ModelSpec Io(int32_t max_batch = 8) {
  ModelSpec io;
  io.max_batch_size = max_batch;
  io.inputs.push_back({"IN0", DataType::kFp32, {4}});
  io.inputs.push_back({"IN1", DataType::kBytes, {2}});
  io.outputs.push_back({"OUT0", DataType::kFp32, {4}});
  return io;
}

struct Req {
  std::vector<float> floats = std::vector<float>(8, 1.f);
  std::string bytes;
  InferenceRequest request;
  Req() {
    for (int i = 0; i < 4; ++i) AppendBytesElement("ab", &bytes);
    request.inputs.push_back({"IN0",
                              DataType::kFp32,
                              {2, 4},
                              reinterpret_cast<const char*>(floats.data()),
                              32});
    request.inputs.push_back(
        {"IN1", DataType::kBytes, {2, 2}, bytes.data(), bytes.size()});
  }
};

void ExpectInvalid(const absl::StatusOr<int64_t>& r,
                   const std::string& fragment) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(fragment), std::string::npos)
      << r.status().message() << "\n  does not contain: " << fragment;
  EXPECT_NE(r.status().message().find("model 'm'"), std::string::npos);
}

TEST(RequestValidatorTest, AcceptsAValidRequestAndOrdersInputs) {
  Req q;
  std::swap(q.request.inputs[0], q.request.inputs[1]);
  auto r = ValidateRequest("m", Io(), q.request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 2);
  EXPECT_EQ(q.request.inputs[0].name, "IN0");
  EXPECT_EQ(q.request.inputs[1].name, "IN1");
}

TEST(RequestValidatorTest, UnknownInput) {
  Req q;
  q.request.inputs[0].name = "NOPE";
  ExpectInvalid(ValidateRequest("m", Io(), q.request),
                "unknown input 'NOPE'; the model's inputs are: IN0, IN1");
}

TEST(RequestValidatorTest, DuplicateInput) {
  Req q;
  q.request.inputs[1] = q.request.inputs[0];
  ExpectInvalid(ValidateRequest("m", Io(), q.request),
                "input 'IN0' already exists in request");
}

TEST(RequestValidatorTest, MissingInput) {
  Req q;
  q.request.inputs.pop_back();
  ExpectInvalid(ValidateRequest("m", Io(), q.request),
                "expected 2 inputs but got 1 inputs for model 'm'. Got "
                "input(s) ['IN0'], but missing required input(s) ['IN1']. "
                "Please provide all required input(s).");
}

TEST(RequestValidatorTest, WrongDatatype) {
  Req q;
  q.request.inputs[0].datatype = DataType::kInt32;
  ExpectInvalid(ValidateRequest("m", Io(), q.request),
                "input 'IN0' expects datatype FP32, got INT32");
}

TEST(RequestValidatorTest, WrongShape) {
  Req q;
  q.request.inputs[0].shape = {2, 5};
  ExpectInvalid(
      ValidateRequest("m", Io(), q.request),
      "input 'IN0' expects shape [-1,4] (batch dimension first), got [2,5]");
  q.request.inputs[0].shape = {8};
  ExpectInvalid(ValidateRequest("m", Io(), q.request), "got [8]");
}

TEST(RequestValidatorTest, BatchSizeLimits) {
  Req q;
  q.request.inputs[0].shape = {9, 4};
  ExpectInvalid(ValidateRequest("m", Io(), q.request),
                "batch size 9, more than the model's max_batch_size 8");
  q.request.inputs[0].shape = {0, 4};
  q.request.inputs[0].byte_size = 0;
  ExpectInvalid(ValidateRequest("m", Io(), q.request), "it must be at least 1");
}

TEST(RequestValidatorTest, InputsMustAgreeOnBatchSize) {
  Req q;
  q.request.inputs[0].shape = {1, 4};
  q.request.inputs[0].byte_size = 16;
  ExpectInvalid(ValidateRequest("m", Io(), q.request),
                "inputs disagree on the batch size: 'IN0' has 1, 'IN1' has 2");
}

TEST(RequestValidatorTest, ByteSizeMismatch) {
  Req q;
  q.request.inputs[0].byte_size = 28;
  ExpectInvalid(ValidateRequest("m", Io(), q.request),
                "input 'IN0' with shape [2,4] of FP32 needs 32 bytes, got 28");
}

TEST(RequestValidatorTest, BytesElementCountMismatch) {
  Req q;
  q.bytes.clear();
  for (int i = 0; i < 3; ++i) AppendBytesElement("x", &q.bytes);
  q.request.inputs[1].data = q.bytes.data();
  q.request.inputs[1].byte_size = q.bytes.size();
  ExpectInvalid(ValidateRequest("m", Io(), q.request),
                "holds 3 BYTES elements, shape [2,2] needs 4");
}

TEST(RequestValidatorTest, TruncatedBytes) {
  Req q;
  q.request.inputs[1].byte_size -= 1;
  ExpectInvalid(ValidateRequest("m", Io(), q.request), "only 1 remain");
}

TEST(RequestValidatorTest, ElementCountOverflow) {
  ModelSpec io;
  io.max_batch_size = 0;
  io.inputs.push_back({"X", DataType::kFp32, {-1, -1}});
  InferenceRequest r;
  r.inputs.push_back(
      {"X", DataType::kFp32, {INT64_C(1) << 40, INT64_C(1) << 40}, nullptr, 0});
  ExpectInvalid(ValidateRequest("m", io, r),
                "causes total element count to exceed maximum size of");
}

TEST(RequestValidatorTest, NegativeDimension) {
  ModelSpec io;
  io.inputs.push_back({"X", DataType::kFp32, {-1}});
  InferenceRequest r;
  r.inputs.push_back({"X", DataType::kFp32, {-3}, nullptr, 0});
  ExpectInvalid(ValidateRequest("m", io, r), "negative dimension");
}

TEST(RequestValidatorTest, UnknownAndDuplicateRequestedOutputs) {
  Req q;
  q.request.requested_outputs = {"OUT9"};
  ExpectInvalid(
      ValidateRequest("m", Io(), q.request),
      "unknown output 'OUT9' requested; the model's outputs are: OUT0");
  q.request.requested_outputs = {"OUT0", "OUT0"};
  ExpectInvalid(ValidateRequest("m", Io(), q.request),
                "Duplicate output name 'OUT0' is not allowed in a request");
}

TEST(RequestValidatorTest, NonBatchingModelTakesTheDeclaredShape) {
  ModelSpec io = Io(0);
  Req q;
  ExpectInvalid(ValidateRequest("m", io, q.request),
                "input 'IN0' expects shape [4], got [2,4]");
  std::vector<float> f(4, 0.f);
  std::string b;
  AppendBytesElement("a", &b);
  AppendBytesElement("b", &b);
  InferenceRequest r;
  r.inputs.push_back({"IN0",
                      DataType::kFp32,
                      {4},
                      reinterpret_cast<const char*>(f.data()),
                      16});
  r.inputs.push_back({"IN1", DataType::kBytes, {2}, b.data(), b.size()});
  auto v = ValidateRequest("m", io, r);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 1);
}

TEST(RequestValidatorTest, OrdersThreeInputsGivenBackwards) {
  ModelSpec io;
  for (const char* name : {"A", "B", "C"}) {
    io.inputs.push_back({name, DataType::kInt8, {1}});
  }
  const char byte = 0;
  InferenceRequest r;
  for (const char* name : {"C", "A", "B"}) {
    r.inputs.push_back({name, DataType::kInt8, {1}, &byte, 1});
  }
  ASSERT_TRUE(ValidateRequest("m", io, r).ok());
  EXPECT_EQ(r.inputs[0].name, "A");
  EXPECT_EQ(r.inputs[1].name, "B");
  EXPECT_EQ(r.inputs[2].name, "C");
}

}  // namespace
}  // namespace serval
