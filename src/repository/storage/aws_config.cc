#include "repository/storage/aws_config.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace serval {
namespace {

using Section = std::map<std::string, std::string>;

// INI as the AWS files use it: [section], key = value, '#' and ';' comments.
std::map<std::string, Section> ParseIni(const std::string& text) {
  std::map<std::string, Section> sections;
  Section* current = nullptr;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      line.remove_prefix(1);
      line.remove_suffix(1);
      current = &sections[std::string(absl::StripAsciiWhitespace(line))];
      continue;
    }
    const size_t eq = line.find('=');
    if (current == nullptr || eq == absl::string_view::npos) continue;
    (*current)[absl::AsciiStrToLower(
        absl::StripAsciiWhitespace(line.substr(0, eq)))] =
        std::string(absl::StripAsciiWhitespace(line.substr(eq + 1)));
  }
  return sections;
}

std::string Get(const Section* s, const std::string& key) {
  if (s == nullptr) return "";
  auto it = s->find(key);
  return it == s->end() ? "" : it->second;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

FileReader ReadWholeFile() {
  return [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  };
}

absl::StatusOr<AwsConfig> ResolveAwsConfig(const EnvLookup& env,
                                           const FileReader& read) {
  AwsConfig config;
  const std::string home = env("HOME").value_or("");
  const std::optional<std::string> named_profile = env("AWS_PROFILE");
  const std::string profile = named_profile.value_or("default");
  const std::string credentials_file =
      env("AWS_SHARED_CREDENTIALS_FILE").value_or(home + "/.aws/credentials");
  const std::string config_file =
      env("AWS_CONFIG_FILE").value_or(home + "/.aws/config");

  std::map<std::string, Section> creds_ini, config_ini;
  if (auto text = read(credentials_file)) creds_ini = ParseIni(*text);
  if (auto text = read(config_file)) config_ini = ParseIni(*text);
  auto find = [](std::map<std::string, Section>& ini,
                 const std::string& name) -> const Section* {
    auto it = ini.find(name);
    return it == ini.end() ? nullptr : &it->second;
  };
  const Section* from_creds = find(creds_ini, profile);
  const Section* from_config =
      find(config_ini, profile == "default" ? "default" : "profile " + profile);
  if (named_profile && from_creds == nullptr && from_config == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "AWS_PROFILE names profile '", profile, "', which is in neither ",
        credentials_file, " nor ", config_file));
  }

  if (auto region = env("AWS_REGION")) {
    config.region = *region;
  } else if (auto default_region = env("AWS_DEFAULT_REGION")) {
    config.region = *default_region;
  } else if (std::string r = Get(from_config, "region"); !r.empty()) {
    config.region = r;
  }

  auto id = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    config.credentials = {*id, *secret, env("AWS_SESSION_TOKEN").value_or("")};
    config.credentials_source = "the environment";
    return config;
  }
  for (const auto& [section, file] : {std::pair{from_creds, credentials_file},
                                      std::pair{from_config, config_file}}) {
    const std::string key_id = Get(section, "aws_access_key_id");
    const std::string key = Get(section, "aws_secret_access_key");
    if (key_id.empty() && key.empty()) continue;
    if (key_id.empty() || key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "profile '", profile, "' of ", file,
          " has aws_access_key_id or aws_secret_access_key but not both"));
    }
    config.credentials = {key_id, key, Get(section, "aws_session_token")};
    config.credentials_source =
        absl::StrCat("profile '", profile, "' of ", file);
    return config;
  }
  return config;
}

}  // namespace serval
