#include "repository/model_fingerprint.h"

#include <chrono>
#include <filesystem>

#include "gtest/gtest.h"
#include "repository/test_tree.h"

namespace serval {
namespace {

namespace fs = std::filesystem;
using Verdict = ChangeDebouncer::Verdict;

class FingerprintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.File("m/config.pbtxt", "name: \"m\"");
    tree_.File("m/1/model.onnx", "weights");
    tree_.File("m/1/sub/data.bin", "external data");
  }
  uint64_t Fingerprint() {
    auto fingerprint = FingerprintModelDirectory(tree_.Path("m"));
    EXPECT_TRUE(fingerprint.ok()) << fingerprint.status();
    return fingerprint.value_or(0);
  }
  // Moves a file's mtime without changing its size or contents.
  void Touch(std::string_view relative) {
    const fs::path path = tree_.Path(relative);
    fs::last_write_time(path,
                        fs::last_write_time(path) + std::chrono::seconds(5));
  }
  TestTree tree_;
};

TEST_F(FingerprintTest, StableWhenNothingChanges) {
  EXPECT_EQ(Fingerprint(), Fingerprint());
}

TEST_F(FingerprintTest, ChangesWhenConfigIsRewritten) {
  const uint64_t before = Fingerprint();
  tree_.File("m/config.pbtxt", "name: \"m\" max_batch_size: 8");
  EXPECT_NE(Fingerprint(), before);
}

TEST_F(FingerprintTest, ChangesWhenAFileIsTouched) {
  const uint64_t before = Fingerprint();
  Touch("m/1/model.onnx");
  EXPECT_NE(Fingerprint(), before);
}

TEST_F(FingerprintTest, ChangesForNestedFilesAndNewVersions) {
  const uint64_t before = Fingerprint();
  tree_.File("m/1/sub/data.bin", "external datA!");
  const uint64_t after_nested = Fingerprint();
  EXPECT_NE(after_nested, before);
  tree_.Dir("m/2");
  EXPECT_NE(Fingerprint(), after_nested);
}

TEST_F(FingerprintTest, ChangesWhenAFileIsRenamed) {
  const uint64_t before = Fingerprint();
  fs::rename(tree_.Path("m/1/model.onnx"), tree_.Path("m/1/model2.onnx"));
  EXPECT_NE(Fingerprint(), before);
}

TEST_F(FingerprintTest, IgnoresEntriesTheScanIgnores) {
  const uint64_t before = Fingerprint();
  tree_.File("m/notes/readme.txt");
  tree_.File("m/.cache/x");
  EXPECT_EQ(Fingerprint(), before);
}

TEST_F(FingerprintTest, MissingDirectoryIsAnError) {
  auto fingerprint = FingerprintModelDirectory(tree_.Path("absent"));
  EXPECT_EQ(fingerprint.status().code(), absl::StatusCode::kNotFound);
}

TEST(ChangeDebouncerTest, ReportsAChangeOnceItHasSettled) {
  ChangeDebouncer debouncer;
  debouncer.Accept("m", 1);
  EXPECT_EQ(debouncer.Observe("m", 1), Verdict::kUnchanged);
  EXPECT_EQ(debouncer.Observe("m", 2), Verdict::kSettling);
  EXPECT_EQ(debouncer.Observe("m", 3), Verdict::kSettling);  // still copying
  EXPECT_EQ(debouncer.Observe("m", 3), Verdict::kChanged);
  EXPECT_EQ(debouncer.Observe("m", 3), Verdict::kUnchanged);  // now accepted
}

TEST(ChangeDebouncerTest, TransientChangeThatIsUndoneIsIgnored) {
  ChangeDebouncer debouncer;
  debouncer.Accept("m", 1);
  EXPECT_EQ(debouncer.Observe("m", 2), Verdict::kSettling);
  EXPECT_EQ(debouncer.Observe("m", 1), Verdict::kUnchanged);
  EXPECT_EQ(debouncer.Observe("m", 2), Verdict::kSettling);
}

TEST(ChangeDebouncerTest, NewAndForgottenModelsMustSettle) {
  ChangeDebouncer debouncer;
  EXPECT_EQ(debouncer.Observe("new", 7), Verdict::kSettling);
  EXPECT_EQ(debouncer.Observe("new", 7), Verdict::kChanged);
  debouncer.Forget("new");
  EXPECT_EQ(debouncer.Observe("new", 7), Verdict::kSettling);
}

}  // namespace
}  // namespace serval
