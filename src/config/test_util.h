// Test-only helpers for src/config tests.
#ifndef SERVAL_CONFIG_TEST_UTIL_H_
#define SERVAL_CONFIG_TEST_UTIL_H_

#include <string_view>

#include "config/config_parser.h"
#include "gtest/gtest.h"

namespace serval::testing {

// Parses config text, failing the test on a parse error.
inline inference::ModelConfig ParseOrDie(std::string_view text) {
  auto config = ParseModelConfigText(text, "test.pbtxt");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *std::move(config) : inference::ModelConfig();
}

}  // namespace serval::testing

#endif  // SERVAL_CONFIG_TEST_UTIL_H_
