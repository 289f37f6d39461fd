// Test helper: a temporary directory tree that deletes itself, with one-line
// helpers to create the files and directories of a model repository.
#ifndef SERVAL_REPOSITORY_TEST_TREE_H_
#define SERVAL_REPOSITORY_TEST_TREE_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace serval {

class TestTree {
 public:
  TestTree() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "serval_repo_XXXXXX")
            .string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    root_ = pattern;
  }
  ~TestTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TestTree(const TestTree&) = delete;
  TestTree& operator=(const TestTree&) = delete;

  const std::filesystem::path& root() const { return root_; }
  std::string Path(std::string_view relative) const {
    return (root_ / relative).string();
  }
  // Creates a directory (and its parents) under the root.
  std::string Dir(std::string_view relative) const {
    std::filesystem::create_directories(root_ / relative);
    return Path(relative);
  }
  // Writes a file (creating parent directories) under the root.
  std::string File(std::string_view relative,
                   std::string_view content = "x") const {
    const std::filesystem::path path = root_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    return path.string();
  }

 private:
  std::filesystem::path root_;
};

}  // namespace serval

#endif  // SERVAL_REPOSITORY_TEST_TREE_H_
