#include "frontend/http/router.h"

#include "gtest/gtest.h"

namespace serval::http {
namespace {

struct Case {
  const char* target;
  Endpoint endpoint;
  const char* method;
  const char* model;
  int64_t version;
};

TEST(RouterTest, RoutesEveryEndpoint) {
  const Case cases[] = {
      {"/v2/health/live", Endpoint::kHealthLive, "GET", "", -1},
      {"/v2/health/ready", Endpoint::kHealthReady, "GET", "", -1},
      {"/v2", Endpoint::kServerMetadata, "GET", "", -1},
      {"/v2/", Endpoint::kServerMetadata, "GET", "", -1},
      {"/v2/models/m", Endpoint::kModelMetadata, "GET", "m", -1},
      {"/v2/models/m/versions/3", Endpoint::kModelMetadata, "GET", "m", 3},
      {"/v2/models/m/ready", Endpoint::kModelReady, "GET", "m", -1},
      {"/v2/models/m/versions/2/ready", Endpoint::kModelReady, "GET", "m", 2},
      {"/v2/models/m/config", Endpoint::kModelConfig, "GET", "m", -1},
      {"/v2/models/m/versions/1/config", Endpoint::kModelConfig, "GET", "m", 1},
      {"/v2/models/stats", Endpoint::kModelStats, "GET", "", -1},
      {"/v2/models/m/stats", Endpoint::kModelStats, "GET", "m", -1},
      {"/v2/models/m/versions/4/stats", Endpoint::kModelStats, "GET", "m", 4},
      {"/v2/models/m/infer", Endpoint::kInfer, "POST", "m", -1},
      {"/v2/models/m/versions/7/infer", Endpoint::kInfer, "POST", "m", 7},
      {"/v2/models/m/infer?x=1", Endpoint::kInfer, "POST", "m", -1},
      {"/v2/repository/index", Endpoint::kRepositoryIndex, "POST", "", -1},
      {"/v2/repository/models/m/load", Endpoint::kRepositoryLoad, "POST", "m",
       -1},
      {"/v2/repository/models/m/unload", Endpoint::kRepositoryUnload, "POST",
       "m", -1},
      {"/v2/models/a%20b/ready", Endpoint::kModelReady, "GET", "a b", -1},
      {"/v2/logging", Endpoint::kLogging, "GET", "", -1},
      {"/v2/trace/setting", Endpoint::kTraceSetting, "GET", "", -1},
      {"/v2/models/m/trace/setting", Endpoint::kTraceSetting, "GET", "m", -1},
      {"/v2/systemsharedmemory/status", Endpoint::kSystemShmStatus, "GET", "",
       -1},
      {"/v2/systemsharedmemory/region/r/register", Endpoint::kSystemShmRegister,
       "POST", "", -1},
      {"/v2/systemsharedmemory/unregister", Endpoint::kSystemShmUnregister,
       "POST", "", -1},
      {"/v2/cudasharedmemory/status", Endpoint::kCudaShmStatus, "GET", "", -1},
      {"/v2/cudasharedmemory/region/r/register", Endpoint::kCudaShmRegister,
       "POST", "", -1},
      {"/v2/cudasharedmemory/unregister", Endpoint::kCudaShmUnregister, "POST",
       "", -1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    auto route = ParseRoute(c.target);
    ASSERT_TRUE(route.ok()) << route.status();
    EXPECT_EQ(route->endpoint, c.endpoint);
    EXPECT_EQ(route->method, c.method);
    EXPECT_EQ(route->model, c.model);
    EXPECT_EQ(route->version, c.version);
  }
}

TEST(RouterTest, SharedMemoryRegionNamesAreDecoded) {
  auto route = ParseRoute("/v2/systemsharedmemory/region/in%2F0/status");
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->endpoint, Endpoint::kSystemShmStatus);
  EXPECT_EQ(route->region, "in/0");
}

TEST(RouterTest, UnknownPathsAreNotFound) {
  for (const char* target :
       {"/", "/v1/models/m", "/v2/health", "/v2/health/x", "/v2/models/m/x",
        "/v2/models/m/versions/1/infer/x", "/v2/repository/models/m/reload",
        "/v2/repository", "/metrics", "/v2/systemsharedmemory",
        "/v2/systemsharedmemory/region/r", "/v2/systemsharedmemory/x/status",
        "/v2/cudasharedmemory/region/r/status/x", "/v2/trace",
        "/v2/models/m/versions/1/trace/setting"}) {
    SCOPED_TRACE(target);
    auto route = ParseRoute(target);
    ASSERT_FALSE(route.ok());
    EXPECT_EQ(route.status().code(), absl::StatusCode::kNotFound);
    EXPECT_NE(route.status().message().find("no endpoint"),
              absl::string_view::npos);
  }
}

TEST(RouterTest, NonIntegerVersionIsInvalid) {
  for (const char* target :
       {"/v2/models/m/versions/abc/infer", "/v2/models/m/versions/-1",
        "/v2/models/m/versions/1.5/ready", "/v2/models/m/versions/1x/stats"}) {
    SCOPED_TRACE(target);
    auto route = ParseRoute(target);
    ASSERT_FALSE(route.ok());
    EXPECT_EQ(route.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(route.status().message().find("non-negative integer"),
              absl::string_view::npos);
  }
}

TEST(RouterTest, MalformedEscapeIsInvalid) {
  auto route = ParseRoute("/v2/models/a%2/ready");
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), absl::StatusCode::kInvalidArgument);
  route = ParseRoute("/v2/models/a%zz/ready");
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace serval::http
