#include "server/path_redactor.h"

#include "gtest/gtest.h"

namespace serval {
namespace {

TEST(PathRedactorTest, ReplacesEveryConfiguredDirectoryInnermostFirst) {
  PathRedactor r({{"/srv/models", "<model repository>"},
                  {"/srv/models/uploads/", "<upload directory>"}});
  EXPECT_EQ(r.Redact("model file /srv/models/m/1/model.onnx does not exist"),
            "model file <model repository>/m/1/model.onnx does not exist");
  EXPECT_EQ(r.Redact("cannot write /srv/models/uploads/x and /srv/models/y"),
            "cannot write <upload directory>/x and <model repository>/y");
  EXPECT_EQ(r.Redact("nothing to hide"), "nothing to hide");
  absl::Status s = r.Redact(absl::NotFoundError("/srv/models/m is gone"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "<model repository>/m is gone");
  EXPECT_TRUE(r.Redact(absl::OkStatus()).ok());
}

TEST(PathRedactorTest, IgnoresTheRootAndEmptyEntries) {
  PathRedactor r({{"/", "<root>"}, {"", "<empty>"}, {".", "<dot>"}});
  EXPECT_EQ(r.Redact("/etc/passwd"), "/etc/passwd");
}

}  // namespace
}  // namespace serval
