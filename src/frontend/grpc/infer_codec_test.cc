#include "frontend/grpc/infer_codec.h"

#include <cstring>
#include <memory>

#include "frontend/grpc/grpc_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using inference::ModelInferRequest;
using ::testing::HasSubstr;

std::shared_ptr<ModelInferRequest> RawFp32Request() {
  auto m = std::make_shared<ModelInferRequest>();
  m->set_model_name("m");
  m->set_id("req-1");
  auto* in = m->add_inputs();
  in->set_name("x");
  in->set_datatype("FP32");
  in->add_shape(1);
  in->add_shape(2);
  const float values[] = {1.0f, 2.0f};
  m->add_raw_input_contents(
      std::string(reinterpret_cast<const char*>(values), sizeof(values)));
  return m;
}

TEST(DecodeInferRequestTest, RawInputsAreViewsIntoTheMessage) {
  auto m = RawFp32Request();
  m->set_model_version("3");
  m->add_outputs()->set_name("y");
  absl::StatusOr<InferenceRequest> r = DecodeInferRequest(*m);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model_name, "m");
  EXPECT_EQ(r->model_version, 3);
  EXPECT_EQ(r->id, "req-1");
  ASSERT_EQ(r->inputs.size(), 1u);
  EXPECT_EQ(r->inputs[0].datatype, DataType::kFp32);
  EXPECT_EQ(r->inputs[0].shape, (Shape{1, 2}));
  EXPECT_EQ(r->inputs[0].data, m->raw_input_contents(0).data());
  EXPECT_EQ(r->inputs[0].byte_size, 8u);
  EXPECT_EQ(r->requested_outputs, std::vector<std::string>{"y"});
  // Raw contents are views: nothing was copied into the request.
  EXPECT_TRUE(r->owned_data.empty());
}

TEST(DecodeInferRequestTest, TypedContentsArePacked) {
  auto m = std::make_shared<ModelInferRequest>();
  m->set_model_name("m");
  auto* in = m->add_inputs();
  in->set_name("x");
  in->set_datatype("INT16");
  in->add_shape(3);
  for (int v : {-1, 0, 7}) in->mutable_contents()->add_int_contents(v);
  absl::StatusOr<InferenceRequest> r = DecodeInferRequest(*m);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->inputs[0].byte_size, 6u);
  int16_t got[3];
  std::memcpy(got, r->inputs[0].data, 6);
  EXPECT_EQ(got[0], -1);
  EXPECT_EQ(got[2], 7);
}

TEST(DecodeInferRequestTest, EmptyTensorNeedsNoData) {
  auto m = std::make_shared<ModelInferRequest>();
  m->set_model_name("m");
  auto* in = m->add_inputs();
  in->set_name("x");
  in->set_datatype("FP16");
  in->add_shape(0);
  absl::StatusOr<InferenceRequest> r = DecodeInferRequest(*m);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->inputs[0].byte_size, 0u);
}

TEST(DecodeInferRequestTest, MixingTypedAndRawIsInvalid) {
  auto m = RawFp32Request();
  m->mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.0f);
  absl::StatusOr<InferenceRequest> r = DecodeInferRequest(*m);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // Triton's text, which its clients compare with.
  EXPECT_THAT(r.status().message(),
              HasSubstr("contents field must not be specified when using "
                        "raw_input_contents for 'x' for model 'm'"));
}

TEST(DecodeInferRequestTest, RawCountMustMatchInputs) {
  auto m = RawFp32Request();
  m->add_raw_input_contents("extra");
  EXPECT_THAT(DecodeInferRequest(*m).status().message(),
              HasSubstr("raw_input_contents has 2 entries"));
}

TEST(DecodeInferRequestTest, ReadsPriorityAndTimeout) {
  auto m = RawFp32Request();
  (*m->mutable_parameters())["priority"].set_int64_param(2);
  (*m->mutable_parameters())["timeout"].set_int64_param(1500);
  (*m->mutable_parameters())["something_else"].set_string_param("x");
  absl::StatusOr<InferenceRequest> r = DecodeInferRequest(*m);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->priority, 2u);
  EXPECT_EQ(r->timeout_us, 1500u);

  (*m->mutable_parameters())["priority"].set_uint64_param(4);
  EXPECT_EQ(DecodeInferRequest(*m)->priority, 4u);
}

TEST(DecodeInferRequestTest, RefusesBadParameters) {
  auto m = RawFp32Request();
  (*m->mutable_parameters())["priority"].set_string_param("high");
  EXPECT_THAT(DecodeInferRequest(*m).status().message(),
              HasSubstr("'priority' must be an int64_param or uint64_param"));
  (*m->mutable_parameters())["priority"].set_int64_param(-1);
  EXPECT_THAT(DecodeInferRequest(*m).status().message(),
              HasSubstr("must not be negative"));
}

TEST(DecodeInferRequestTest, DeadlineCapsTimeout) {
  auto m = RawFp32Request();
  (*m->mutable_parameters())["timeout"].set_int64_param(60'000'000);
  absl::StatusOr<InferenceRequest> r = DecodeInferRequest(
      *m, std::chrono::system_clock::now() + std::chrono::seconds(2));
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->timeout_us, 1'000'000u);
  EXPECT_LE(r->timeout_us, 2'000'000u);

  r = DecodeInferRequest(
      *m, std::chrono::system_clock::now() - std::chrono::milliseconds(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(DecodeInferRequestTest, RefusesMalformedRequests) {
  struct Case {
    std::function<void(ModelInferRequest*)> mutate;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {[](ModelInferRequest* m) { m->clear_model_name(); }, "model_name"},
      {[](ModelInferRequest* m) { m->set_model_version("v1"); },
       "failed to get model version from specified version string 'v1'"},
      {[](ModelInferRequest* m) {
         m->mutable_inputs(0)->set_datatype("FLOAT");
       },
       "unknown datatype 'FLOAT'"},
      {[](ModelInferRequest* m) { m->mutable_inputs(0)->set_shape(1, -2); },
       "invalid shape"},
      {[](ModelInferRequest* m) { m->mutable_inputs(0)->set_shape(1, 3); },
       "needs 12 bytes, got 8"},
      {[](ModelInferRequest* m) {
         *m->add_inputs() = m->inputs(0);
         *m->add_raw_input_contents() = m->raw_input_contents(0);
       },
       "given more than once"},
      {[](ModelInferRequest* m) { m->clear_raw_input_contents(); },
       "unable to find data for input tensor 'x'"},
  };
  for (const Case& c : cases) {
    auto m = RawFp32Request();
    c.mutate(m.get());
    absl::StatusOr<InferenceRequest> r = DecodeInferRequest(*m);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << c.fragment;
    EXPECT_THAT(r.status().message(), HasSubstr(c.fragment));
  }
}

TEST(EncodeInferResponseTest, WritesRawOutputsInOrder) {
  InferenceResponse response;
  response.model_name = "m";
  response.model_version = 1;
  response.id = "abc";
  OutputTensor out;
  out.name = "y";
  out.datatype = DataType::kInt32;
  out.shape = {2};
  out.data.Resize(8);
  const int32_t values[] = {5, 6};
  std::memcpy(out.data.data(), values, 8);
  response.outputs.push_back(std::move(out));
  inference::ModelInferResponse message;
  EncodeInferResponse(response, &message);
  EXPECT_EQ(message.model_name(), "m");
  EXPECT_EQ(message.model_version(), "1");
  EXPECT_EQ(message.id(), "abc");
  ASSERT_EQ(message.outputs_size(), 1);
  EXPECT_EQ(message.outputs(0).datatype(), "INT32");
  EXPECT_EQ(message.outputs(0).shape(0), 2);
  ASSERT_EQ(message.raw_output_contents_size(), 1);
  EXPECT_EQ(message.raw_output_contents(0),
            std::string(reinterpret_cast<const char*>(values), 8));
}

TEST(ErrorTextTest, AppendsIdOnce) {
  EXPECT_EQ(ErrorText(absl::NotFoundError("no model 'm'"), "r7"),
            "no model 'm' (request id 'r7')");
  EXPECT_EQ(ErrorText(absl::NotFoundError("[r7] no model"), "r7"),
            "[r7] no model");
  EXPECT_EQ(ErrorText(absl::NotFoundError("no model"), ""), "no model");
}

}  // namespace
}  // namespace serval

namespace serval {
namespace {

TEST(GrpcStatusTest, AHugeMessageIsCutBelowTheClientsMetadataLimit) {
  const std::string name(100000, 'n');
  grpc::Status s =
      ToGrpcStatus(absl::NotFoundError("model '" + name + "é' not found"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LE(s.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_NE(s.error_message().find("bytes in all)"), std::string::npos);
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("short")).error_message(),
            "short");
  // Never cut inside a character.
  std::string accents;
  for (int i = 0; i < 3000; ++i) accents += "é";
  const std::string cut = BoundedStatusMessage(accents);
  const size_t dots = cut.find("...");
  ASSERT_NE(dots, std::string::npos);
  EXPECT_EQ(dots % 2, 0u);
}

}  // namespace
}  // namespace serval
