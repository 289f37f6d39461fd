#include "security/access_policy.h"

#include <fstream>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/secret.h"

namespace serval {
namespace {

using ::testing::HasSubstr;

AccessPolicy::HeaderLookup Headers(std::map<std::string, std::string> h) {
  return [h = std::move(h)](
             std::string_view name) -> std::optional<std::string_view> {
    auto it = h.find(std::string(name));
    if (it == h.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

TEST(AccessPolicyTest, OpenPolicyAllowsEverything) {
  AccessPolicy open;
  EXPECT_EQ(open.Check(ApiGroup::kModelRepository, Headers({})),
            AccessDecision::kAllowed);
}

TEST(AccessPolicyTest, HeaderRuleRestrictsOnlyItsGroups) {
  auto policy =
      AccessPolicy::Parse({"model-repository,trace:admin-key=s3cret"},
                          AccessProtocol::kHttp, "--http-restricted-api");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->Check(ApiGroup::kInference, Headers({})),
            AccessDecision::kAllowed);
  EXPECT_EQ(policy->Check(ApiGroup::kModelRepository, Headers({})),
            AccessDecision::kUnauthenticated);
  EXPECT_EQ(policy->Check(ApiGroup::kTrace, Headers({{"admin-key", "wrong"}})),
            AccessDecision::kDenied);
  EXPECT_EQ(policy->Check(ApiGroup::kTrace, Headers({{"admin-key", "s3cret"}})),
            AccessDecision::kAllowed);
  // A prefix or extension of the secret is wrong too.
  EXPECT_EQ(policy->Check(ApiGroup::kTrace, Headers({{"admin-key", "s3cre"}})),
            AccessDecision::kDenied);
  EXPECT_EQ(
      policy->Check(ApiGroup::kTrace, Headers({{"admin-key", "s3cret2"}})),
      AccessDecision::kDenied);
  EXPECT_THAT(policy->Describe(),
              HasSubstr("model-repository (header admin-key)"));
  EXPECT_THAT(policy->Describe(), ::testing::Not(HasSubstr("s3cret")));
}

TEST(AccessPolicyTest, HeaderKeyIsLookedUpInLowerCase) {
  auto policy =
      AccessPolicy::Parse({"inference:X-Api-Key=k"}, AccessProtocol::kGrpc,
                          "--grpc-restricted-protocol");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->Check(ApiGroup::kInference, Headers({{"x-api-key", "k"}})),
            AccessDecision::kAllowed);
}

TEST(AccessPolicyTest, GrpcAcceptsTritonsPrefixedKey) {
  auto policy =
      AccessPolicy::Parse({"model-repository:admin-key=v"},
                          AccessProtocol::kGrpc, "--grpc-restricted-protocol");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->Check(ApiGroup::kModelRepository,
                          Headers({{"triton-grpc-protocol-admin-key", "v"}})),
            AccessDecision::kAllowed);
  EXPECT_EQ(policy->Check(ApiGroup::kModelRepository,
                          Headers({{"triton-grpc-protocol-admin-key", "x"}})),
            AccessDecision::kDenied);
}

TEST(AccessPolicyTest, BearerToken) {
  auto policy =
      AccessPolicy::Parse({"inference,metrics:bearer=tok-123"},
                          AccessProtocol::kHttp, "--http-restricted-api");
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(policy->wants_bearer(ApiGroup::kInference));
  EXPECT_EQ(policy->Check(ApiGroup::kMetrics,
                          Headers({{"authorization", "Bearer tok-123"}})),
            AccessDecision::kAllowed);
  EXPECT_EQ(policy->Check(ApiGroup::kMetrics,
                          Headers({{"authorization", "bearer tok-123"}})),
            AccessDecision::kAllowed);
  EXPECT_EQ(policy->Check(ApiGroup::kMetrics,
                          Headers({{"authorization", "Bearer tok-124"}})),
            AccessDecision::kDenied);
  // Another scheme is no bearer credential at all.
  EXPECT_EQ(policy->Check(ApiGroup::kMetrics,
                          Headers({{"authorization", "Basic dG9rLTEyMw=="}})),
            AccessDecision::kUnauthenticated);
}

TEST(AccessPolicyTest, SecretFromFile) {
  const std::string path = ::testing::TempDir() + "/access_policy_secret";
  { std::ofstream(path) << "from-file\n"; }
  auto policy =
      AccessPolicy::Parse({"inference:bearer=@" + path}, AccessProtocol::kHttp,
                          "--http-restricted-api");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->Check(ApiGroup::kInference,
                          Headers({{"authorization", "Bearer from-file"}})),
            AccessDecision::kAllowed);
  auto missing =
      AccessPolicy::Parse({"inference:bearer=@/nonexistent/x"},
                          AccessProtocol::kHttp, "--http-restricted-api");
  EXPECT_THAT(missing.status().message(),
              HasSubstr("cannot read the secret file"));
}

TEST(AccessPolicyTest, RefusesBadRules) {
  const char* flag = "--http-restricted-api";
  auto parse = [&](std::vector<std::string> rules,
                   AccessProtocol p = AccessProtocol::kHttp) {
    return AccessPolicy::Parse(rules, p, flag).status();
  };
  EXPECT_THAT(parse({"inference"}).message(), HasSubstr("no ':'"));
  EXPECT_THAT(parse({"inference:key"}).message(), HasSubstr("KEY=VALUE"));
  EXPECT_THAT(parse({"inference:key="}).message(), HasSubstr("empty"));
  EXPECT_THAT(parse({"inferense:k=v"}).message(),
              HasSubstr("unknown API group 'inferense'"));
  EXPECT_THAT(parse({"health,model-repository:k1=v1", "metadata,health:k2=v2"})
                  .message(),
              HasSubstr("'health' is named in more than one rule"));
  EXPECT_THAT(parse({"metrics:k=v"}, AccessProtocol::kGrpc).message(),
              HasSubstr("unknown API group 'metrics'"));
  EXPECT_THAT(parse({"inference:bad key=v"}).message(),
              HasSubstr("not a valid header name"));
  // The secret never appears in an error.
  EXPECT_THAT(parse({"inferense:k=topsecret"}).message(),
              ::testing::Not(HasSubstr("topsecret")));
}

TEST(SecretTest, Equality) {
  EXPECT_TRUE(SecretEquals("abc", "abc"));
  EXPECT_FALSE(SecretEquals("abc", "abd"));
  EXPECT_FALSE(SecretEquals("abc", "ab"));
  EXPECT_FALSE(SecretEquals("", "a"));
}

}  // namespace
}  // namespace serval
