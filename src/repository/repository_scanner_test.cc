#include "repository/repository_scanner.h"

#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "repository/test_tree.h"

namespace serval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Names(const RepositoryScan& scan) {
  std::vector<std::string> names;
  for (const ScannedModel& model : scan.models) names.push_back(model.name);
  return names;
}

const ModelProblem* FindProblem(const RepositoryScan& scan,
                                const std::string& name) {
  for (const ModelProblem& problem : scan.problems) {
    if (problem.name == name) return &problem;
  }
  return nullptr;
}

TEST(ScanRepositoriesTest, FindsModelsAndVersions) {
  TestTree tree;
  tree.File("repo/b/config.pbtxt", "name: \"b\"");
  tree.File("repo/b/1/model.onnx");
  tree.File("repo/b/10/model.onnx");
  tree.File("repo/b/002/model.onnx");
  tree.File("repo/a/config.pbtxt");
  tree.Dir("repo/a/3");
  const std::string root = tree.Path("repo");

  auto scan = ScanRepositories({root});
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_THAT(scan->problems, IsEmpty());
  ASSERT_THAT(Names(*scan), ElementsAre("a", "b"));
  const ScannedModel& b = scan->models[1];
  EXPECT_EQ(b.repository, root);
  EXPECT_EQ(b.path, tree.Path("repo/b"));
  EXPECT_EQ(b.config_path, tree.Path("repo/b/config.pbtxt"));
  EXPECT_TRUE(b.has_config);
  EXPECT_THAT(b.versions, ElementsAre(1, 2, 10));
  EXPECT_EQ(b.VersionPath(10), tree.Path("repo/b/10"));
  EXPECT_EQ(b.VersionPath(2), tree.Path("repo/b/002"));
  EXPECT_EQ(b.VersionPath(3), "");
  EXPECT_THAT(scan->models[0].versions, ElementsAre(3));
}

TEST(ScanRepositoriesTest, MissingConfigIsAllowed) {
  TestTree tree;
  tree.File("repo/auto/1/model.onnx");
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->models.size(), 1u);
  EXPECT_FALSE(scan->models[0].has_config);
}

TEST(ScanRepositoriesTest, IgnoresNonNumericHiddenAndPlainEntries) {
  TestTree tree;
  tree.File("repo/m/config.pbtxt");
  tree.Dir("repo/m/1");
  tree.Dir("repo/m/v2");
  tree.Dir("repo/m/-3");
  tree.Dir("repo/m/.4");
  tree.Dir("repo/m/5a");
  tree.File("repo/m/6");  // a file, not a directory
  tree.File("repo/m/labels.txt");
  tree.File("repo/README.md");
  tree.File("repo/.git/HEAD");
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  EXPECT_THAT(scan->problems, IsEmpty());
  ASSERT_THAT(Names(*scan), ElementsAre("m"));
  EXPECT_THAT(scan->models[0].versions, ElementsAre(1));
}

TEST(ScanRepositoriesTest, FollowsSymlinkedDirectories) {
  TestTree tree;
  tree.File("elsewhere/model/config.pbtxt");
  tree.Dir("elsewhere/model/4");
  tree.Dir("repo");
  std::filesystem::create_directory_symlink(tree.Path("elsewhere/model"),
                                            tree.Path("repo/linked"));
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  ASSERT_THAT(Names(*scan), ElementsAre("linked"));
  EXPECT_THAT(scan->models[0].versions, ElementsAre(4));
}

TEST(ScanRepositoriesTest, ModelWithoutVersionIsAProblemOthersStillLoad) {
  TestTree tree;
  tree.File("repo/good/config.pbtxt");
  tree.Dir("repo/good/1");
  tree.File("repo/empty/config.pbtxt");
  tree.Dir("repo/empty/latest");
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  EXPECT_THAT(Names(*scan), ElementsAre("good"));
  ASSERT_EQ(scan->problems.size(), 1u);
  const ModelProblem& problem = scan->problems[0];
  EXPECT_EQ(problem.name, "empty");
  EXPECT_EQ(problem.repository, tree.Path("repo"));
  EXPECT_EQ(problem.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(problem.status.message()),
              HasSubstr("no version directory"));
}

TEST(ScanRepositoriesTest, VersionBeyondInt64IsAProblem) {
  TestTree tree;
  tree.Dir("repo/big/1");
  tree.Dir("repo/big/9223372036854775808");  // INT64_MAX + 1
  tree.Dir("repo/max/9223372036854775807");
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  ASSERT_THAT(Names(*scan), ElementsAre("max"));
  EXPECT_THAT(scan->models[0].versions, ElementsAre(INT64_MAX));
  const ModelProblem* problem = FindProblem(*scan, "big");
  ASSERT_NE(problem, nullptr);
  EXPECT_EQ(problem->status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(problem->status.message()),
              HasSubstr("9223372036854775808"));
}

TEST(ScanRepositoriesTest, TwoDirectoriesForOneVersionIsAProblem) {
  TestTree tree;
  tree.Dir("repo/m/1");
  tree.Dir("repo/m/01");
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  EXPECT_THAT(scan->models, IsEmpty());
  ASSERT_EQ(scan->problems.size(), 1u);
  EXPECT_THAT(std::string(scan->problems[0].status.message()),
              HasSubstr("both name version 1"));
}

TEST(ScanRepositoriesTest, ConfigThatIsADirectoryIsAProblem) {
  TestTree tree;
  tree.Dir("repo/m/config.pbtxt");
  tree.Dir("repo/m/1");
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  EXPECT_THAT(scan->models, IsEmpty());
  ASSERT_EQ(scan->problems.size(), 1u);
  EXPECT_THAT(std::string(scan->problems[0].status.message()),
              HasSubstr("not a regular file"));
}

TEST(ScanRepositoriesTest, InvalidNamesAreProblems) {
  TestTree tree;
  tree.Dir("repo/ok/1");
  tree.Dir("repo/a..b/1");
  tree.Dir("repo/bad\nname/1");
  tree.Dir("repo/bad\x01/1");
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  EXPECT_THAT(Names(*scan), ElementsAre("ok"));
  ASSERT_EQ(scan->problems.size(), 3u);
  for (const ModelProblem& problem : scan->problems) {
    EXPECT_EQ(problem.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(problem.status.message()),
                HasSubstr("invalid model name"));
  }
  ASSERT_NE(FindProblem(*scan, "a..b"), nullptr);
  EXPECT_THAT(std::string(FindProblem(*scan, "a..b")->status.message()),
              HasSubstr("'..'"));
}

TEST(ScanRepositoriesTest, SameNameInTwoRootsIsAProblemForThatName) {
  TestTree tree;
  tree.Dir("r1/shared/1");
  tree.Dir("r1/only1/1");
  tree.Dir("r2/shared/2");
  tree.Dir("r2/only2/1");
  const std::string r1 = tree.Path("r1"), r2 = tree.Path("r2");
  auto scan = ScanRepositories({r1, r2});
  ASSERT_TRUE(scan.ok()) << scan.status();
  ASSERT_THAT(Names(*scan), ElementsAre("only1", "only2"));
  EXPECT_EQ(scan->models[0].repository, r1);
  EXPECT_EQ(scan->models[1].repository, r2);
  ASSERT_EQ(scan->problems.size(), 1u);
  const ModelProblem& problem = scan->problems[0];
  EXPECT_EQ(problem.name, "shared");
  EXPECT_EQ(problem.repository, "");
  EXPECT_EQ(problem.status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(problem.status.message()), HasSubstr(r1));
  EXPECT_THAT(std::string(problem.status.message()), HasSubstr(r2));
}

TEST(ScanRepositoriesTest, MissingRootIsAnError) {
  TestTree tree;
  tree.Dir("repo/m/1");
  auto scan = ScanRepositories({tree.Path("repo"), tree.Path("nope")});
  EXPECT_EQ(scan.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(scan.status().message()), HasSubstr("nope"));
}

TEST(ScanRepositoriesTest, RootThatIsAFileIsAnError) {
  TestTree tree;
  const std::string file = tree.File("file");
  auto scan = ScanRepositories({file});
  EXPECT_EQ(scan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(scan.status().message()),
              HasSubstr("not a directory"));
}

TEST(ScanRepositoriesTest, NoRootOrTheSameRootTwiceIsAnError) {
  EXPECT_EQ(ScanRepositories({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  TestTree tree;
  tree.Dir("repo/m/1");
  auto scan = ScanRepositories({tree.Path("repo"), tree.Path("repo") + "/."});
  EXPECT_EQ(scan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(scan.status().message()),
              HasSubstr("same directory"));
}

TEST(ScanRepositoriesTest, EmptyRootIsFine) {
  TestTree tree;
  tree.Dir("repo");
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  EXPECT_THAT(scan->models, IsEmpty());
  EXPECT_THAT(scan->problems, IsEmpty());
}

TEST(ScanRepositoriesTest, UnreadableRootAndModel) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every directory";
  TestTree tree;
  tree.Dir("repo/locked/1");
  tree.Dir("repo/open/1");
  tree.Dir("locked_root");
  std::filesystem::permissions(tree.Path("repo/locked"),
                               std::filesystem::perms::none);
  std::filesystem::permissions(tree.Path("locked_root"),
                               std::filesystem::perms::none);
  auto scan = ScanRepositories({tree.Path("repo")});
  ASSERT_TRUE(scan.ok());
  EXPECT_THAT(Names(*scan), ElementsAre("open"));
  ASSERT_NE(FindProblem(*scan, "locked"), nullptr);
  EXPECT_EQ(FindProblem(*scan, "locked")->status.code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ScanRepositories({tree.Path("locked_root")}).status().code(),
            absl::StatusCode::kPermissionDenied);
  std::filesystem::permissions(tree.Path("repo/locked"),
                               std::filesystem::perms::owner_all);
  std::filesystem::permissions(tree.Path("locked_root"),
                               std::filesystem::perms::owner_all);
}

TEST(ParseVersionDirectoryNameTest, Cases) {
  EXPECT_EQ(*ParseVersionDirectoryName("0"), 0);
  EXPECT_EQ(*ParseVersionDirectoryName("007"), 7);
  EXPECT_EQ(*ParseVersionDirectoryName("9223372036854775807"), INT64_MAX);
  EXPECT_TRUE(absl::IsOutOfRange(
      ParseVersionDirectoryName("99999999999999999999").status()));
  for (const char* name : {"", "-1", "+1", "1.0", " 1", "one", "1e3"}) {
    EXPECT_TRUE(absl::IsNotFound(ParseVersionDirectoryName(name).status()))
        << name;
  }
}

}  // namespace
}  // namespace serval
