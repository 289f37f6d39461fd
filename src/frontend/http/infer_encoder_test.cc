#include "frontend/http/infer_encoder.h"

#include <cstring>
#include <string>

#include "frontend/http/json_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval::http {
namespace {

using ::testing::HasSubstr;

template <typename T>
OutputTensor Output(const std::string& name, DataType type, Shape shape,
                    std::vector<T> values) {
  OutputTensor t;
  t.name = name;
  t.datatype = type;
  t.shape = std::move(shape);
  t.data.Resize(values.size() * sizeof(T));
  if (!values.empty()) {
    std::memcpy(t.data.data(), values.data(), values.size() * sizeof(T));
  }
  return t;
}

InferenceResponse Response() {
  InferenceResponse r;
  r.model_name = "m";
  r.model_version = 3;
  r.id = "abc";
  return r;
}

std::string JsonOf(InferenceResponse r, OutputEncoding e = {}) {
  auto encoded = EncodeInferResponse(std::move(r), e);
  EXPECT_TRUE(encoded.ok()) << encoded.status();
  if (!encoded.ok()) return "";
  EXPECT_FALSE(encoded->json_length.has_value());
  EXPECT_TRUE(encoded->binary.empty());
  return encoded->json;
}

TEST(InferEncoderTest, JsonOutputsOfEveryJsonType) {
  InferenceResponse r = Response();
  r.outputs.push_back(Output<uint8_t>("b", DataType::kBool, {2}, {1, 0}));
  r.outputs.push_back(Output<uint8_t>("u8", DataType::kUint8, {1}, {255}));
  r.outputs.push_back(Output<uint16_t>("u16", DataType::kUint16, {1}, {65535}));
  r.outputs.push_back(
      Output<uint32_t>("u32", DataType::kUint32, {1}, {4294967295u}));
  r.outputs.push_back(
      Output<uint64_t>("u64", DataType::kUint64, {1}, {UINT64_MAX}));
  r.outputs.push_back(Output<int8_t>("i8", DataType::kInt8, {1}, {-128}));
  r.outputs.push_back(Output<int16_t>("i16", DataType::kInt16, {1}, {-32768}));
  r.outputs.push_back(Output<int32_t>("i32", DataType::kInt32, {1}, {-7}));
  r.outputs.push_back(
      Output<int64_t>("i64", DataType::kInt64, {1}, {INT64_MIN}));
  r.outputs.push_back(Output<float>("f32", DataType::kFp32, {1, 3},
                                    {0.1f, 1.0f, 3.4028235e38f}));
  r.outputs.push_back(Output<double>("f64", DataType::kFp64, {1}, {0.1}));
  std::string bytes;
  AppendBytesElement("hi", &bytes);
  AppendBytesElement("\"q\"", &bytes);
  OutputTensor s;
  s.name = "s";
  s.datatype = DataType::kBytes;
  s.shape = {2};
  s.data.Resize(bytes.size());
  std::memcpy(s.data.data(), bytes.data(), bytes.size());
  r.outputs.push_back(std::move(s));
  EXPECT_EQ(
      JsonOf(std::move(r)),
      R"({"model_name":"m","model_version":"3","id":"abc","outputs":[)"
      R"({"name":"b","datatype":"BOOL","shape":[2],"data":[true,false]},)"
      R"({"name":"u8","datatype":"UINT8","shape":[1],"data":[255]},)"
      R"({"name":"u16","datatype":"UINT16","shape":[1],"data":[65535]},)"
      R"({"name":"u32","datatype":"UINT32","shape":[1],"data":[4294967295]},)"
      R"({"name":"u64","datatype":"UINT64","shape":[1],"data":[18446744073709551615]},)"
      R"({"name":"i8","datatype":"INT8","shape":[1],"data":[-128]},)"
      R"({"name":"i16","datatype":"INT16","shape":[1],"data":[-32768]},)"
      R"({"name":"i32","datatype":"INT32","shape":[1],"data":[-7]},)"
      R"({"name":"i64","datatype":"INT64","shape":[1],"data":[-9223372036854775808]},)"
      R"({"name":"f32","datatype":"FP32","shape":[1,3],"data":[0.1,1,3.4028235e+38]},)"
      R"({"name":"f64","datatype":"FP64","shape":[1],"data":[0.1]},)"
      R"({"name":"s","datatype":"BYTES","shape":[2],"data":["hi","\"q\""]}]})");
}

TEST(InferEncoderTest, NoIdWhenEmptyAndNonFiniteFloats) {
  InferenceResponse r = Response();
  r.id.clear();
  r.outputs.push_back(Output<float>("f", DataType::kFp32, {3},
                                    {std::numeric_limits<float>::quiet_NaN(),
                                     std::numeric_limits<float>::infinity(),
                                     -std::numeric_limits<float>::infinity()}));
  EXPECT_EQ(JsonOf(std::move(r)),
            R"({"model_name":"m","model_version":"3","outputs":[)"
            R"({"name":"f","datatype":"FP32","shape":[3],)"
            R"("data":["NaN","Infinity","-Infinity"]}]})");
}

TEST(InferEncoderTest, BytesThatAreNotUtf8StayValidJson) {
  InferenceResponse r = Response();
  r.id = std::string("id\xff", 3);
  // Valid: 2-, 3- and 4-byte sequences; invalid: a lone continuation byte,
  // an overlong '/', a surrogate, a truncated sequence.
  const std::string valid = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  const std::string bad = "\x80\xc0\xaf\xed\xa0\x80\xe2\x82";
  std::string body = JsonOf(std::move(r));
  EXPECT_NE(body.find("\"id\":\"id\xef\xbf\xbd\""), std::string::npos) << body;
  std::string scratch;
  EXPECT_EQ(ValidUtf8(valid, &scratch), valid);
  EXPECT_EQ(ValidUtf8(bad, &scratch),
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(InferEncoderTest, BinaryOutputsFollowTheJsonHeader) {
  InferenceResponse r = Response();
  r.outputs.push_back(Output<int32_t>("a", DataType::kInt32, {2}, {1, 2}));
  r.outputs.push_back(Output<int32_t>("b", DataType::kInt32, {1}, {3}));
  r.outputs.push_back(Output<uint16_t>("h", DataType::kFp16, {1}, {0x3c00}));
  OutputEncoding e;
  e.all_binary = true;
  e.binary["b"] = false;
  auto encoded = EncodeInferResponse(std::move(r), e);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  ASSERT_TRUE(encoded->json_length.has_value());
  const std::string& json = encoded->json;
  EXPECT_EQ(*encoded->json_length, json.size());
  EXPECT_EQ(json,
            R"({"model_name":"m","model_version":"3","id":"abc","outputs":[)"
            R"({"name":"a","datatype":"INT32","shape":[2],)"
            R"("parameters":{"binary_data_size":8}},)"
            R"({"name":"b","datatype":"INT32","shape":[1],"data":[3]},)"
            R"({"name":"h","datatype":"FP16","shape":[1],)"
            R"("parameters":{"binary_data_size":2}}]})");
  // Moved out of the response, in output order; not copied into the JSON.
  ASSERT_EQ(encoded->binary.size(), 2u);
  ASSERT_EQ(encoded->binary[0].size(), 8u);
  int32_t a[2];
  std::memcpy(a, encoded->binary[0].data(), 8);
  EXPECT_EQ(a[0], 1);
  EXPECT_EQ(a[1], 2);
  EXPECT_EQ(std::string(encoded->binary[1].data(), 2),
            std::string("\x00\x3c", 2));
}

TEST(InferEncoderTest, Fp16AsJsonIsRefused) {
  InferenceResponse r = Response();
  r.outputs.push_back(Output<uint16_t>("h", DataType::kFp16, {1}, {0}));
  auto encoded = EncodeInferResponse(std::move(r), {});
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(encoded.status().message()),
              HasSubstr("output 'h' of model 'm' is FP16"));
}

TEST(InferEncoderTest, SizeMismatchIsInternal) {
  InferenceResponse r = Response();
  r.outputs.push_back(Output<int32_t>("a", DataType::kInt32, {3}, {1, 2}));
  auto encoded = EncodeInferResponse(std::move(r), {});
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(encoded.status().message()),
              HasSubstr("does not match its 8 bytes"));
}

}  // namespace
}  // namespace serval::http
