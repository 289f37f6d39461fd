#include "repository/model_name.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using ::testing::HasSubstr;

TEST(ValidateModelNameTest, AcceptsOrdinaryNames) {
  for (const char* name :
       {"resnet50", "my-model_v2", "a.b", "model with spaces", "x",
        "\xC3\xA9t\xC3\xA9" /* "été" */, "1"}) {
    EXPECT_TRUE(ValidateModelName(name).ok()) << name;
  }
}

void ExpectRefused(std::string_view name, std::string_view reason) {
  const absl::Status status = ValidateModelName(name);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
  EXPECT_THAT(std::string(status.message()), HasSubstr(std::string(reason)))
      << name;
}

TEST(ValidateModelNameTest, RefusesEmpty) { ExpectRefused("", "empty"); }

TEST(ValidateModelNameTest, RefusesLeadingDot) {
  ExpectRefused(".hidden", "may not start with '.'");
  ExpectRefused(".", "may not start with '.'");
}

TEST(ValidateModelNameTest, RefusesDotDotAnywhere) {
  ExpectRefused("a..b", "'..'");
  ExpectRefused("model..", "'..'");
}

TEST(ValidateModelNameTest, RefusesSlashes) {
  ExpectRefused("a/b", "'/'");
  ExpectRefused("a\\b", "'/'");
}

TEST(ValidateModelNameTest, RefusesNonPrintable) {
  ExpectRefused(std::string("a\nb"), "non-printable");
  ExpectRefused(std::string("a\x7f"), "non-printable");
  ExpectRefused(std::string("tab\there"), "non-printable");
  ExpectRefused(std::string("nul\0x", 5), "non-printable");
  ExpectRefused("a\xC2\x85" /* U+0085, a C1 control */, "non-printable");
}

TEST(ValidateModelNameTest, RefusesInvalidUtf8) {
  ExpectRefused("a\xff", "UTF-8");
  ExpectRefused("a\xC3", "UTF-8");          // truncated
  ExpectRefused("a\xC0\xAF", "UTF-8");      // overlong '/'
  ExpectRefused("a\xED\xA0\x80", "UTF-8");  // surrogate
}

TEST(ValidateModelNameTest, MessageEscapesTheName) {
  const absl::Status status = ValidateModelName("bad\nname");
  EXPECT_THAT(std::string(status.message()), HasSubstr("bad\\nname"));
}

}  // namespace
}  // namespace serval
