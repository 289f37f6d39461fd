#include "lifecycle/model_upload.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "gtest/gtest.h"
#include "repository/test_tree.h"

namespace serval {
namespace {
namespace fs = std::filesystem;

TEST(ValidateUploadNameTest, AcceptsVersionFilesAndModelRootFiles) {
  EXPECT_EQ(*ValidateUploadName("1/model.onnx"), "1/model.onnx");
  EXPECT_EQ(*ValidateUploadName("12/sub/dir/weights.bin"),
            "12/sub/dir/weights.bin");
  EXPECT_EQ(*ValidateUploadName("labels.txt"), "labels.txt");
}

TEST(ValidateUploadNameTest, RefusesEscapesAndOddNames) {
  for (const char* bad :
       {"", "../x", "1/../../x", "1/..", "..", "/etc/passwd", "1//x", "1/./x",
        "./1/x", "1\\..\\x", "1/x\n", "config.pbtxt", "7", "a/b", "1/"}) {
    auto r = ValidateUploadName(bad);
    EXPECT_FALSE(r.ok()) << "accepted '" << bad << "'";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    }
  }
  std::string with_nul("1/a\0b", 5);
  EXPECT_FALSE(ValidateUploadName(with_nul).ok());
}

TEST(ValidateUploadNameTest, RefusesComponentsLongerThanNameMax) {
  EXPECT_TRUE(ValidateUploadName("1/" + std::string(255, 'A')).ok());
  auto r = ValidateUploadName(std::string(256, 'A'));
  ASSERT_FALSE(r.ok());
  // Triton's clients look for "Invalid file path".
  EXPECT_EQ(r.status().message().substr(0, 18), "Invalid file path:");
  EXPECT_NE(r.status().message().find("longer than 255 bytes"),
            std::string::npos);
}

TEST(ValidateUploadTest, EnforcesTotalSizeAndFileCount) {
  UploadLimits limits;
  limits.max_total_bytes = 10;
  limits.max_files = 2;
  EXPECT_TRUE(
      ValidateUpload({{"1/a", "12345"}, {"1/b", "12345"}}, limits).ok());
  auto big = ValidateUpload({{"1/a", "123456"}, {"1/b", "12345"}}, limits);
  EXPECT_EQ(big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(big.message()).find("--max-upload-bytes"),
            std::string::npos);
  EXPECT_FALSE(
      ValidateUpload({{"1/a", ""}, {"1/b", ""}, {"1/c", ""}}, limits).ok());
  EXPECT_FALSE(ValidateUpload({{"../a", ""}}, limits).ok());
}

TEST(WriteUploadedModelTest, WritesUnderAFreshDirectoryRemovedWithItsOwner) {
  TestTree tree;
  std::string parent;
  {
    auto dir = WriteUploadedModel(tree.root().string(), "m",
                                  {{"1/model.bin", "abc"}, {"labels.txt", "l"}},
                                  UploadLimits{});
    ASSERT_TRUE(dir.ok()) << dir.status();
    parent = (*dir)->path();
    EXPECT_EQ(fs::path(parent).parent_path(), tree.root());
    std::ifstream in(fs::path(parent) / "m" / "1" / "model.bin");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "abc");
    EXPECT_TRUE(fs::exists(fs::path(parent) / "m" / "labels.txt"));
  }
  EXPECT_FALSE(fs::exists(parent));
}

TEST(WriteUploadedModelTest, RefusesBadNamesWithoutWriting) {
  TestTree tree;
  auto dir = WriteUploadedModel(tree.root().string(), "m",
                                {{"1/ok", "x"}, {"1/../../escape", "x"}},
                                UploadLimits{});
  EXPECT_FALSE(dir.ok());
  EXPECT_TRUE(fs::is_empty(tree.root()));
  EXPECT_FALSE(WriteUploadedModel(tree.root().string(), "../m", {{"1/a", "x"}},
                                  UploadLimits{})
                   .ok());
}

}  // namespace
}  // namespace serval
