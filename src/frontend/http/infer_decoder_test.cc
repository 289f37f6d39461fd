#include "frontend/http/infer_decoder.h"

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Bodies outlive the requests decoded from them, as a connection's do.
std::string_view Body(std::string s) {
  static std::deque<std::string> bodies;
  bodies.push_back(std::move(s));
  return bodies.back();
}

template <typename T>
std::vector<T> Values(const TensorView& v) {
  std::vector<T> out(v.byte_size / sizeof(T));
  if (v.byte_size > 0) std::memcpy(out.data(), v.data, v.byte_size);
  return out;
}

absl::StatusOr<DecodedInfer> Decode(const std::string& json) {
  return DecodeInferRequest("m", -1, Body(json), std::nullopt);
}

std::string OneInput(const std::string& datatype, const std::string& shape,
                     const std::string& data) {
  return R"({"inputs":[{"name":"x","datatype":")" + datatype + R"(","shape":)" +
         shape + R"(,"data":)" + data + "}]}";
}

TEST(InferDecoderTest, JsonEveryIntegerType) {
  auto check = [](const std::string& type, auto sample) {
    using T = decltype(sample);
    SCOPED_TRACE(type);
    auto d = Decode(OneInput(type, "[3]", "[0, 1, 100]"));
    ASSERT_TRUE(d.ok()) << d.status();
    ASSERT_EQ(d->request.inputs.size(), 1u);
    const TensorView& v = d->request.inputs[0];
    EXPECT_EQ(v.name, "x");
    EXPECT_EQ(ApiName(v.datatype), type);
    EXPECT_THAT(v.shape, ElementsAre(3));
    EXPECT_THAT(Values<T>(v), ElementsAre(T(0), T(1), T(100)));
  };
  check("UINT8", uint8_t{});
  check("UINT16", uint16_t{});
  check("UINT32", uint32_t{});
  check("UINT64", uint64_t{});
  check("INT8", int8_t{});
  check("INT16", int16_t{});
  check("INT32", int32_t{});
  check("INT64", int64_t{});
}

TEST(InferDecoderTest, JsonExtremeIntegers) {
  auto d = Decode(
      OneInput("INT64", "[2]", "[-9223372036854775808, 9223372036854775807]"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Values<int64_t>(d->request.inputs[0]),
              ElementsAre(INT64_MIN, INT64_MAX));
  d = Decode(OneInput("UINT64", "[1]", "[18446744073709551615]"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Values<uint64_t>(d->request.inputs[0]), ElementsAre(UINT64_MAX));
  d = Decode(OneInput("INT8", "[2]", "[-128, 127]"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Values<int8_t>(d->request.inputs[0]), ElementsAre(-128, 127));
}

TEST(InferDecoderTest, JsonFloatsBoolsAndBytes) {
  auto d = Decode(OneInput("FP32", "[3]", "[0.1, -2, 3.5e3]"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Values<float>(d->request.inputs[0]),
              ElementsAre(0.1f, -2.0f, 3500.0f));
  d = Decode(OneInput("FP64", "[2]", "[0.1, 1e300]"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Values<double>(d->request.inputs[0]), ElementsAre(0.1, 1e300));
  d = Decode(OneInput("BOOL", "[3]", "[true, false, true]"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Values<uint8_t>(d->request.inputs[0]), ElementsAre(1, 0, 1));
  d = Decode(OneInput("BYTES", "[2]", R"(["hi", ""])"));
  ASSERT_TRUE(d.ok()) << d.status();
  const TensorView& v = d->request.inputs[0];
  EXPECT_EQ(std::string(v.data, v.byte_size),
            std::string("\x02\0\0\0hi\0\0\0\0", 10));
}

TEST(InferDecoderTest, NestedDataIsRowMajor) {
  auto d = Decode(OneInput("INT32", "[2,3]", "[[1,2,3],[4,5,6]]"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Values<int32_t>(d->request.inputs[0]),
              ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(d->request.inputs[0].shape, ElementsAre(2, 3));
}

TEST(InferDecoderTest, RequestFieldsAndParameters) {
  auto d = Decode(R"({"id":"req-7","parameters":{"priority":2,"timeout":1500,
    "binary_data_output":true},
    "inputs":[{"name":"x","datatype":"INT32","shape":[1],"data":[5]}],
    "outputs":[{"name":"y","parameters":{"binary_data":false}},{"name":"z"}]})");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->request.model_name, "m");
  EXPECT_EQ(d->request.model_version, -1);
  EXPECT_EQ(d->request.id, "req-7");
  EXPECT_EQ(d->request.priority, 2u);
  EXPECT_EQ(d->request.timeout_us, 1500u);
  EXPECT_THAT(d->request.requested_outputs, ElementsAre("y", "z"));
  EXPECT_TRUE(d->encoding.all_binary);
  EXPECT_FALSE(d->encoding.IsBinary("y"));
  EXPECT_TRUE(d->encoding.IsBinary("z"));
}

TEST(InferDecoderTest, BinaryInputsAreViewsIntoTheBody) {
  const std::string json =
      R"({"inputs":[{"name":"a","datatype":"FP32","shape":[2],)"
      R"("parameters":{"binary_data_size":8}},)"
      R"({"name":"b","datatype":"INT32","shape":[1],"data":[9]},)"
      R"({"name":"c","datatype":"BYTES","shape":[1],)"
      R"("parameters":{"binary_data_size":7}}]})";
  std::string body = json;
  const float floats[2] = {1.5f, -3.25f};
  body.append(reinterpret_cast<const char*>(floats), 8);
  body.append(std::string("\x03\0\0\0abc", 7));
  std::string_view shared = Body(body);
  auto d = DecodeInferRequest("m", 2, shared, json.size());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->request.model_version, 2);
  ASSERT_EQ(d->request.inputs.size(), 3u);
  const TensorView& a = d->request.inputs[0];
  EXPECT_EQ(a.data, shared.data() + json.size());  // zero-copy
  EXPECT_THAT(Values<float>(a), ElementsAre(1.5f, -3.25f));
  EXPECT_THAT(Values<int32_t>(d->request.inputs[1]), ElementsAre(9));
  const TensorView& c = d->request.inputs[2];
  EXPECT_EQ(c.data, shared.data() + json.size() + 8);
  EXPECT_EQ(c.byte_size, 7u);
}

TEST(InferDecoderTest, BinaryFp16IsAccepted) {
  const std::string json =
      R"({"inputs":[{"name":"h","datatype":"FP16","shape":[2],)"
      R"("parameters":{"binary_data_size":4}}]})";
  auto d = DecodeInferRequest("m", -1, Body(json + "abcd"), json.size());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->request.inputs[0].byte_size, 4u);
}

TEST(InferDecoderTest, RawBinaryUsesTheModelsSingleInput) {
  ModelSpec md;
  md.max_batch_size = 4;
  md.inputs = {{"a", DataType::kFp32, {2}}};
  const float f[2] = {1, 2};
  std::string_view body =
      Body(std::string(reinterpret_cast<const char*>(f), 8));
  auto d = DecodeRawInferRequest("m", md, body);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(d->request.inputs[0].shape, ElementsAre(1, 2));
  EXPECT_EQ(d->request.inputs[0].data, body.data());

  md.max_batch_size = 0;
  md.inputs = {{"a", DataType::kFp32, {-1}}};
  d = DecodeRawInferRequest("m", md, body);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(d->request.inputs[0].shape, ElementsAre(2));

  // A fixed shape is taken as declared; the byte count is the validator's
  // to check, as in Triton.
  md.inputs = {{"a", DataType::kFp32, {3}}};
  d = DecodeRawInferRequest("m", md, body);
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(d->request.inputs[0].shape, ElementsAre(3));
  EXPECT_TRUE(d->encoding.all_binary);  // raw requests get binary outputs

  md.inputs = {{"a", DataType::kFp32, {-1, -1}}};
  d = DecodeRawInferRequest("m", md, body);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(),
              HasSubstr("The shape of the raw input 'a' can not be deduced "
                        "because there are more than one variable-sized "
                        "dimension"));

  md.inputs = {{"s", DataType::kBytes, {-1}}};
  d = DecodeRawInferRequest("m", md, body);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(),
              HasSubstr("For BYTE datatype raw input 's', the model must "
                        "have input shape [1]"));
  md.inputs = {{"s", DataType::kBytes, {1}}};
  d = DecodeRawInferRequest("m", md, "hi");
  ASSERT_TRUE(d.ok()) << d.status();
  // The body is one element: a length prefix is added.
  EXPECT_EQ(
      std::string(d->request.inputs[0].data, d->request.inputs[0].byte_size),
      std::string("\x02\0\0\0hi", 6));

  md.inputs = {{"a", DataType::kFp32, {-1}}, {"b", DataType::kFp32, {-1}}};
  d = DecodeRawInferRequest("m", md, body);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(),
              HasSubstr("Raw request must only have 1 input (found 1) to be "
                        "deduced but got 2 inputs in 'm' model configuration"));
}

struct ErrorCase {
  const char* name;
  std::string body;
  std::optional<size_t> header_length;
  const char* fragment;
};

TEST(InferDecoderTest, EveryDecodeErrorIsInvalidArgumentWithAMessage) {
  const std::string bin_json =
      R"({"inputs":[{"name":"x","datatype":"INT32","shape":[2],)"
      R"("parameters":{"binary_data_size":8}}]})";
  const std::string shape3 =
      R"J({"inputs":[{"name":"x","datatype":"INT32","shape":[3],"parameters":{"binary_data_size":8}}]})J";
  const std::string both =
      R"J({"inputs":[{"name":"x","datatype":"INT32","shape":[1],"data":[1],"parameters":{"binary_data_size":4}}]})J";
  const std::string bad_bytes =
      R"J({"inputs":[{"name":"x","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":5}}]})J";
  const std::vector<ErrorCase> cases = {
      {"malformed", "{\"inputs\": [", {}, "malformed JSON"},
      {"not object", "[1]", {}, "must be a JSON object"},
      {"no inputs", "{}", {}, "'inputs' array"},
      {"input not object", R"({"inputs":[3]})", {}, "must be an object"},
      {"no name",
       R"({"inputs":[{"datatype":"FP32","shape":[1],"data":[1]}]})",
       {},
       "no string 'name'"},
      {"no datatype",
       R"({"inputs":[{"name":"x","shape":[1],"data":[1]}]})",
       {},
       "missing string 'datatype'"},
      {"bad datatype",
       OneInput("FLOAT", "[1]", "[1]"),
       {},
       "unknown datatype 'FLOAT'"},
      {"no shape",
       R"({"inputs":[{"name":"x","datatype":"FP32","data":[1]}]})",
       {},
       "missing 'shape'"},
      {"negative dim", OneInput("FP32", "[-1]", "[1]"), {}, "non-negative"},
      {"shape not array", OneInput("FP32", "3", "[1]"), {}, "array of"},
      {"too few",
       OneInput("FP32", "[3]", "[1,2]"),
       {},
       "input 'x' of model 'm': shape needs 3 elements but data has 2"},
      {"too many",
       OneInput("FP32", "[1]", "[1,2]"),
       {},
       "shape needs 1 elements but data has more"},
      {"count overflow",
       OneInput("FP32", "[9223372036854775807,4]", "[1]"),
       {},
       "input 'x'"},
      {"huge shape",
       OneInput("FP32", "[100000000]", "[1]"),
       {},
       "more than the JSON request could hold"},
      {"fp16 json",
       OneInput("FP16", "[1]", "[1]"),
       {},
       "FP16 cannot be sent as JSON"},
      {"bf16 json",
       OneInput("BF16", "[1]", "[1]"),
       {},
       "BF16 cannot be sent as JSON"},
      {"uint8 range",
       OneInput("UINT8", "[1]", "[300]"),
       {},
       "value 300 is out of range for UINT8"},
      {"fp32 range",
       OneInput("FP32", "[2]", "[1.5, 1e39]"),
       {},
       "data element 1 value 1e+39 is out of range for FP32"},
      {"negative unsigned",
       OneInput("UINT32", "[1]", "[-1]"),
       {},
       "out of range for UINT32"},
      {"int from float",
       OneInput("INT32", "[1]", "[1.5]"),
       {},
       "data element 0 is a floating-point number, expected a INT32"},
      {"string in ints",
       OneInput("INT32", "[2]", R"([1,"2"])"),
       {},
       "data element 1 is a string"},
      {"number in bytes",
       OneInput("BYTES", "[1]", "[1]"),
       {},
       "is an integer, expected a BYTES"},
      {"int in bool", OneInput("BOOL", "[1]", "[1]"), {}, "expected a BOOL"},
      {"no data",
       R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1]}]})",
       {},
       "Input must set only one of the following fields: 'data', "
       "'binary_data_size' in 'parameters', 'shared_memory_region' in "
       "'parameters'. But no field is set"},
      {"duplicate input",
       R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]},)"
       R"({"name":"x","datatype":"FP32","shape":[1],"data":[1]}]})",
       {},
       "input 'x' already exists in request"},
      {"id not string", R"({"id":3,"inputs":[]})", {}, "'id' must be a string"},
      {"bad priority",
       R"({"parameters":{"priority":-1},"inputs":[]})",
       {},
       "'priority' must be a non-negative integer"},
      {"bad timeout",
       R"({"parameters":{"timeout":"1s"},"inputs":[]})",
       {},
       "'timeout'"},
      {"bad binary_data_output",
       R"({"parameters":{"binary_data_output":1},"inputs":[]})",
       {},
       "must be a boolean"},
      {"outputs not array",
       R"({"inputs":[],"outputs":{}})",
       {},
       "'outputs' must be an array"},
      {"classification and shared memory",
       R"({"inputs":[],"outputs":[{"name":"y","parameters":{"classification":2,)"
       R"("shared_memory_region":"r","shared_memory_byte_size":8}}]})",
       {},
       "Output can't set both 'shared_memory_region' and 'classification'"},
      {"shared memory without a server",
       R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],)"
       R"("parameters":{"shared_memory_region":"r","shared_memory_byte_size":8}}]})",
       {},
       "the shared-memory extension is not enabled"},
      {"shared memory without size",
       R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],)"
       R"("parameters":{"shared_memory_region":"r"}}]})",
       {},
       "'shared_memory_byte_size' must be specified along with "
       "'shared_memory_region'"},
      {"binary without header",
       bin_json,
       {},
       "Inference-Header-Content-Length missing"},
      {"header past body", "{}", 10, "Inference-Header-Content-Length is 10"},
      {"binary short", bin_json + "1234", bin_json.size(),
       "binary_data_size is 8 but only 4 bytes"},
      {"binary size vs shape", shape3 + "12345678", shape3.size(),
       "needs 12 bytes, got 8"},
      {"unclaimed bytes", bin_json + "12345678XY", bin_json.size(),
       "2 bytes of binary data in the body are not claimed"},
      {"data and binary", both + "1234", both.size(),
       "But set 'data' 'binary_data_size'"},
      {"bad bytes element", bad_bytes + std::string("\x09\0\0\0a", 5),
       bad_bytes.size(), "claims 9 bytes"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto d = DecodeInferRequest("m", -1, Body(c.body), c.header_length);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(d.status().message()), HasSubstr(c.fragment));
  }
}

}  // namespace
}  // namespace serval::http
