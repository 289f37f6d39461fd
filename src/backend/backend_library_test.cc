#include "backend/backend_library.h"

#include <string>

#include "backend/backend_registry.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

const std::string kPlugins = SERVAL_TEST_PLUGIN_DIR;
const std::string kBackends = SERVAL_TEST_BACKEND_DIR;

void ExpectError(const std::string& path, absl::StatusCode code,
                 const std::string& fragment) {
  auto lib = BackendLibrary::Open(path);
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), code) << lib.status();
  EXPECT_NE(lib.status().message().find(fragment), std::string::npos)
      << lib.status().message();
  EXPECT_NE(lib.status().message().find(path), std::string::npos);
}

TEST(BackendLibraryTest, MissingFile) {
  ExpectError(kPlugins + "/libserval_nothere.so", absl::StatusCode::kNotFound,
              "does not exist");
}

TEST(BackendLibraryTest, NotALibrary) {
  ExpectError(SERVAL_TEST_SOURCE_FILE, absl::StatusCode::kFailedPrecondition,
              "cannot load backend library");
}

TEST(BackendLibraryTest, NoEntryPoint) {
  ExpectError(kPlugins + "/libserval_noentry.so",
              absl::StatusCode::kFailedPrecondition,
              "does not export ServalBackendGetApi");
}

TEST(BackendLibraryTest, WrongAbiMajorNamesBothVersions) {
  ExpectError(kPlugins + "/libserval_badabi.so",
              absl::StatusCode::kFailedPrecondition,
              "was built for backend ABI 2.0 but this serval speaks ABI 1.2");
}

TEST(BackendLibraryTest, PluginRefusingTheHost) {
  ExpectError(kPlugins + "/libserval_nullapi.so",
              absl::StatusCode::kFailedPrecondition,
              "refused this host (host ABI 1.2)");
}

TEST(BackendLibraryTest, IdentityLoads) {
  auto lib =
      BackendLibrary::Open(kBackends + "/identity/libserval_identity.so");
  ASSERT_TRUE(lib.ok()) << lib.status();
  EXPECT_EQ((*lib)->name(), "identity");
  EXPECT_EQ((*lib)->api().abi_major, SERVAL_BACKEND_ABI_MAJOR);
}

TEST(BackendRegistryTest, FindsPluginsByNameOnce) {
  BackendRegistry registry(kBackends);
  auto a = registry.Get("identity");
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = registry.Get("identity");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get());
  auto missing = registry.Get("tensorflow");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(
      missing.status().message().find("backend 'tensorflow' is not installed"),
      std::string::npos);
}

}  // namespace
}  // namespace serval
