// Checked against AWS's published SigV4 test suite (credentials AKIDEXAMPLE,
// 2015-08-30T12:36:00Z, us-east-1, service "service") and the S3
// documentation's signed GetObject example.
#include "repository/storage/sigv4.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "repository/storage/crypto.h"

namespace serval {
namespace {

const AwsCredentials kSuite{"AKIDEXAMPLE",
                            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const char kEmpty[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SignableRequest SuiteGet(std::string path) {
  SignableRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.headers = {{"Host", "example.amazonaws.com"},
               {"X-Amz-Date", "20150830T123600Z"}};
  r.payload_sha256 = kEmpty;
  return r;
}

TEST(Sha256Test, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), kEmpty);
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SigV4Test, GetVanilla) {
  const SignableRequest r = SuiteGet("/");
  EXPECT_EQ(CanonicalRequest(r),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z"
            "\n\nhost;x-amz-date\n" +
                std::string(kEmpty));
  EXPECT_EQ(StringToSign("20150830T123600Z",
                         "20150830/us-east-1/service/aws4_request",
                         CanonicalRequest(r)),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
            "aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(AuthorizationHeader(r, kSuite, "us-east-1", "service",
                                "20150830T123600Z"),
            "AWS4-HMAC-SHA256 "
            "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature="
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, GetSpaceIsEncodedOnce) {
  const SignableRequest r = SuiteGet("/example space/");
  EXPECT_THAT(CanonicalRequest(r),
              testing::StartsWith("GET\n/example%20space/\n"));
  EXPECT_THAT(AuthorizationHeader(r, kSuite, "us-east-1", "service",
                                  "20150830T123600Z"),
              testing::EndsWith("Signature=652487583200325589f1fba4c7e578f72c47"
                                "cb61beeca81406b39ddec1366741"));
}

TEST(SigV4Test, GetUtf8Path) {
  EXPECT_THAT(CanonicalRequest(SuiteGet("/\xE1\x88\xB4")),
              testing::StartsWith("GET\n/%E1%88%B4\n\n"));
}

TEST(SigV4Test, DuplicateHeaderValuesJoinInOrder) {
  SignableRequest r = SuiteGet("/");
  r.headers.emplace_back("My-Header1", "value2");
  r.headers.emplace_back("My-Header1", "value2");
  r.headers.emplace_back("My-Header1", "value1");
  EXPECT_THAT(CanonicalRequest(r),
              testing::HasSubstr("my-header1:value2,value2,value1\n"));
  EXPECT_THAT(AuthorizationHeader(r, kSuite, "us-east-1", "service",
                                  "20150830T123600Z"),
              testing::EndsWith("Signature=c9d5ea9f3f72853aea855b47ea873832890d"
                                "bdd183b4468f858259531a5138ea"));
}

TEST(SigV4Test, S3GetObjectExample) {
  SignableRequest r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmpty},
               {"x-amz-date", "20130524T000000Z"}};
  r.payload_sha256 = kEmpty;
  const AwsCredentials creds{"AKIAIOSFODNN7EXAMPLE",
                             "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  EXPECT_EQ(SignedHeaders(r), "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_THAT(
      AuthorizationHeader(r, creds, "us-east-1", "s3", "20130524T000000Z"),
      testing::EndsWith("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170ab"
                        "a48dd91039c6036bdb41"));
}

TEST(SigV4Test, QueryIsEncodedAndSorted) {
  EXPECT_EQ(
      CanonicalQueryString({{"prefix", "models/a b"},
                            {"list-type", "2"},
                            {"continuation-token", "x/y+z="}}),
      "continuation-token=x%2Fy%2Bz%3D&list-type=2&prefix=models%2Fa%20b");
  EXPECT_EQ(UriEncode("a/b~c", false), "a/b~c");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
}

}  // namespace
}  // namespace serval
