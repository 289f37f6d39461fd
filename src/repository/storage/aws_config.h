// Credentials and region the way the AWS tools find them: the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION /
// AWS_DEFAULT_REGION), then the profile (AWS_PROFILE, else "default") of
// the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/credentials) and of the config file (AWS_CONFIG_FILE, else
// ~/.aws/config, where profiles are "[profile name]"). The environment and
// the file reader are injected, for tests.
#ifndef SERVAL_REPOSITORY_STORAGE_AWS_CONFIG_H_
#define SERVAL_REPOSITORY_STORAGE_AWS_CONFIG_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "repository/storage/sigv4.h"

namespace serval {

struct AwsConfig {
  AwsCredentials credentials;  // empty: unsigned (anonymous) requests
  std::string region = "us-east-1";
  // Where the credentials came from ("environment", "profile 'x' of
  // <file>"), for the log; never the secret itself.
  std::string credentials_source = "none";
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
using FileReader =
    std::function<std::optional<std::string>(const std::string&)>;

// The process's environment and files.
EnvLookup ProcessEnvironment();
FileReader ReadWholeFile();

// Fails when a named profile (AWS_PROFILE) is in neither file, or a file
// gives a key id without its secret.
absl::StatusOr<AwsConfig> ResolveAwsConfig(const EnvLookup& env,
                                           const FileReader& read);

}  // namespace serval

#endif  // SERVAL_REPOSITORY_STORAGE_AWS_CONFIG_H_
