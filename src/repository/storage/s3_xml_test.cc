#include "repository/storage/s3_xml.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(S3XmlTest, ListPage) {
  auto page = ParseListObjectsV2(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>models</Name><Prefix>repo/</Prefix><KeyCount>2</KeyCount>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>tok&amp;en</NextContinuationToken>
  <Contents><Key>repo/a/config.pbtxt</Key><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1</Size></Contents>
  <!-- a comment -->
  <Contents><Key>repo/a/1/m &lt;x&gt; &#233;.onnx</Key><ETag>"abc-2"</ETag><Size>12345678901</Size><StorageClass>STANDARD</StorageClass></Contents>
</ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "tok&en");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "repo/a/config.pbtxt");
  EXPECT_EQ(page->objects[0].etag, "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(page->objects[1].key, "repo/a/1/m <x> \xC3\xA9.onnx");
  EXPECT_EQ(page->objects[1].etag, "abc-2");
  EXPECT_EQ(page->objects[1].size, 12345678901u);
}

TEST(S3XmlTest, Refusals) {
  EXPECT_FALSE(ParseListObjectsV2("").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult>").ok());
  EXPECT_FALSE(ParseListObjectsV2("<Error></Error>").ok());
  EXPECT_FALSE(
      ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key>"
                         "<Size>x</Size></Contents></ListBucketResult>")
          .ok());
  EXPECT_FALSE(
      ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                         "</ListBucketResult>")
          .ok());
  EXPECT_FALSE(
      ParseListObjectsV2("<ListBucketResult>&bogus;</ListBucketResult>").ok());
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_FALSE(ParseListObjectsV2(deep).ok());
}

TEST(S3XmlTest, ErrorDocument) {
  const S3Error e = ParseS3Error(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The "
      "specified bucket does not exist</Message></Error>");
  EXPECT_EQ(e.code, "NoSuchBucket");
  EXPECT_EQ(e.message, "The specified bucket does not exist");
  EXPECT_EQ(ParseS3Error("not xml").code, "");
}

}  // namespace
}  // namespace serval
