#include "repository/storage/s3_location.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(S3LocationTest, Forms) {
  auto aws = ParseS3Location("s3://my-bucket/path/to/repo/");
  ASSERT_TRUE(aws.ok()) << aws.status();
  EXPECT_FALSE(aws->custom_endpoint());
  EXPECT_TRUE(aws->tls);
  EXPECT_EQ(aws->bucket, "my-bucket");
  EXPECT_EQ(aws->prefix, "path/to/repo");
  EXPECT_EQ(aws->ToString(), "s3://my-bucket/path/to/repo");

  auto local = ParseS3Location("s3://http://127.0.0.1:4569/models");
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_FALSE(local->tls);
  EXPECT_EQ(local->host, "127.0.0.1");
  EXPECT_EQ(local->port, "4569");
  EXPECT_EQ(local->bucket, "models");
  EXPECT_EQ(local->prefix, "");

  auto triton = ParseS3Location("s3://localhost:9000/bucket/repo");
  ASSERT_TRUE(triton.ok()) << triton.status();
  EXPECT_EQ(triton->host, "localhost");
  EXPECT_FALSE(triton->tls);
  EXPECT_EQ(triton->ToString(), "s3://http://localhost:9000/bucket/repo");

  auto https = ParseS3Location("s3://https://minio.example.com/b01/r");
  ASSERT_TRUE(https.ok()) << https.status();
  EXPECT_EQ(https->port, "443");
  EXPECT_TRUE(https->tls);
}

TEST(S3LocationTest, Refusals) {
  for (const char* bad :
       {"s3://", "s3://Bad_Bucket/x", "s3://ab", "s3://http://host:0/b01",
        "s3://http://:80/b01", "s3://bucket/a//b", "s3://bucket/a/../b",
        "s3://http://host:99999/b01", "/local/path"}) {
    EXPECT_FALSE(ParseS3Location(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace serval
