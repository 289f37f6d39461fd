#include "repository/storage/aws_config.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::testing::HasSubstr;

struct Fake {
  std::map<std::string, std::string> env, files;
  EnvLookup Env() {
    return [this](const std::string& k) -> std::optional<std::string> {
      auto it = env.find(k);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
  }
  FileReader Files() {
    return [this](const std::string& k) -> std::optional<std::string> {
      auto it = files.find(k);
      if (it == files.end()) return std::nullopt;
      return it->second;
    };
  }
};

TEST(AwsConfigTest, EnvironmentFirst) {
  Fake f;
  f.env = {{"HOME", "/h"},
           {"AWS_ACCESS_KEY_ID", "AKID"},
           {"AWS_SECRET_ACCESS_KEY", "SECRET"},
           {"AWS_SESSION_TOKEN", "TOKEN"},
           {"AWS_REGION", "eu-west-1"}};
  f.files["/h/.aws/credentials"] =
      "[default]\naws_access_key_id=FILE\naws_secret_access_key=FS\n";
  auto c = ResolveAwsConfig(f.Env(), f.Files());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->credentials.access_key_id, "AKID");
  EXPECT_EQ(c->credentials.session_token, "TOKEN");
  EXPECT_EQ(c->region, "eu-west-1");
  EXPECT_EQ(c->credentials_source, "the environment");
}

TEST(AwsConfigTest, ProfilesFromTheSharedFiles) {
  Fake f;
  f.env = {{"HOME", "/h"}, {"AWS_PROFILE", "ci"}};
  f.files["/h/.aws/credentials"] =
      "# comment\n[default]\naws_access_key_id = D\naws_secret_access_key = "
      "DS\n\n[ci]\naws_access_key_id = CI\naws_secret_access_key = CS\n";
  f.files["/h/.aws/config"] =
      "[default]\nregion=us-west-2\n[profile ci]\n"
      "region = ap-south-1\n";
  auto c = ResolveAwsConfig(f.Env(), f.Files());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->credentials.access_key_id, "CI");
  EXPECT_EQ(c->credentials.secret_access_key, "CS");
  EXPECT_EQ(c->region, "ap-south-1");
  EXPECT_THAT(c->credentials_source, HasSubstr("profile 'ci'"));
  EXPECT_THAT(c->credentials_source, ::testing::Not(HasSubstr("CS")));
}

TEST(AwsConfigTest, FilesNamedByTheEnvironment) {
  Fake f;
  f.env = {{"AWS_SHARED_CREDENTIALS_FILE", "/c"}, {"AWS_CONFIG_FILE", "/k"}};
  f.files["/c"] = "[default]\naws_access_key_id=A\naws_secret_access_key=B\n";
  f.files["/k"] = "[default]\nregion=sa-east-1\n";
  auto c = ResolveAwsConfig(f.Env(), f.Files());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->credentials.access_key_id, "A");
  EXPECT_EQ(c->region, "sa-east-1");
}

TEST(AwsConfigTest, NothingMeansAnonymous) {
  Fake f;
  auto c = ResolveAwsConfig(f.Env(), f.Files());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->credentials.empty());
  EXPECT_EQ(c->region, "us-east-1");
}

TEST(AwsConfigTest, Refusals) {
  Fake f;
  f.env = {{"AWS_PROFILE", "missing"}};
  EXPECT_THAT(ResolveAwsConfig(f.Env(), f.Files()).status().message(),
              HasSubstr("profile 'missing'"));
  Fake half;
  half.env = {{"HOME", "/h"}};
  half.files["/h/.aws/credentials"] = "[default]\naws_access_key_id=A\n";
  EXPECT_THAT(ResolveAwsConfig(half.Env(), half.Files()).status().message(),
              HasSubstr("not both"));
}

}  // namespace
}  // namespace serval
