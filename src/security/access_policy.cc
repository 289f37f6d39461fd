#include "security/access_policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl_compat.h"
#include "security/secret.h"

namespace serval {
namespace {

constexpr std::array<std::string_view, kApiGroupCount> kGroupNames = {
    "health",       "metadata",         "inference",  "shared-memory",
    "model-config", "model-repository", "statistics", "trace",
    "logging",      "metrics"};

constexpr std::string_view kTritonGrpcPrefix = "triton-grpc-protocol-";

std::optional<ApiGroup> GroupByName(std::string_view name) {
  for (size_t i = 0; i < kGroupNames.size(); ++i) {
    if (kGroupNames[i] == name) return static_cast<ApiGroup>(i);
  }
  return std::nullopt;
}

std::string AllowedGroups(AccessProtocol protocol) {
  std::string names;
  for (std::string_view name : kGroupNames) {
    if (protocol == AccessProtocol::kGrpc && name == "metrics") continue;
    absl::StrAppend(&names, names.empty() ? "" : ", ", ToAbsl(name));
  }
  return names;
}

// A header name as RFC 9110 allows it (a token), so a rule cannot name a
// header no client can send.
bool IsHeaderToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok =
        absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
        std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string_view ApiGroupName(ApiGroup group) {
  return kGroupNames[static_cast<size_t>(group)];
}

absl::StatusOr<AccessPolicy> AccessPolicy::Parse(
    const std::vector<std::string>& rules, AccessProtocol protocol,
    std::string_view flag) {
  AccessPolicy policy;
  policy.protocol_ = protocol;
  for (const std::string& text : rules) {
    auto bad = [&](std::string_view why) {
      // Only the groups are quoted: the rest may be a secret.
      const size_t colon = text.find(':');
      const std::string quoted =
          colon == std::string::npos
              ? std::string("a rule")
              : absl::StrCat("'", text.substr(0, colon), ":...'");
      return absl::InvalidArgumentError(absl::StrCat(
          ToAbsl(flag), " ", quoted, ": ", ToAbsl(why),
          " (expected GROUP[,GROUP...]:KEY=VALUE or "
          "GROUP[,GROUP...]:bearer=TOKEN; VALUE and TOKEN may be @FILE)"));
    };
    const size_t colon = text.find(':');
    if (colon == std::string::npos) return bad("no ':' after the groups");
    const std::string_view groups = std::string_view(text).substr(0, colon);
    const std::string_view credential =
        std::string_view(text).substr(colon + 1);
    const size_t eq = credential.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return bad("no KEY=VALUE after the ':'");
    }
    Rule rule;
    const std::string_view key = credential.substr(0, eq);
    if (!IsHeaderToken(key)) return bad("the KEY is not a valid header name");
    rule.bearer = absl::EqualsIgnoreCase(ToAbsl(key), "bearer");
    rule.key =
        rule.bearer ? "authorization" : absl::AsciiStrToLower(ToAbsl(key));
    auto value = ResolveSecret(credential.substr(eq + 1), flag);
    if (!value.ok()) return value.status();
    rule.value = *std::move(value);
    for (absl::string_view name : absl::StrSplit(ToAbsl(groups), ',')) {
      const std::optional<ApiGroup> group = GroupByName(ToStd(name));
      if (!group.has_value() ||
          (protocol == AccessProtocol::kGrpc && *group == ApiGroup::kMetrics)) {
        return absl::InvalidArgumentError(
            absl::StrCat(ToAbsl(flag), ": unknown API group '", name,
                         "'; known: ", AllowedGroups(protocol)));
      }
      auto& slot = policy.rules_[static_cast<size_t>(*group)];
      if (slot.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(ToAbsl(flag), ": API group '", name,
                         "' is named in more than one rule"));
      }
      slot = rule;
    }
  }
  return policy;
}

bool AccessPolicy::restricts_any() const {
  for (const auto& rule : rules_) {
    if (rule.has_value()) return true;
  }
  return false;
}

bool AccessPolicy::wants_bearer(ApiGroup group) const {
  const auto& rule = rules_[static_cast<size_t>(group)];
  return rule.has_value() && rule->bearer;
}

AccessDecision AccessPolicy::Check(ApiGroup group,
                                   const HeaderLookup& headers) const {
  const auto& rule = rules_[static_cast<size_t>(group)];
  if (!rule.has_value()) return AccessDecision::kAllowed;
  std::optional<std::string_view> given = headers(rule->key);
  if (!given.has_value() && protocol_ == AccessProtocol::kGrpc &&
      !rule->bearer) {
    // Triton's clients send the key with this prefix.
    given = headers(absl::StrCat(ToAbsl(kTritonGrpcPrefix), rule->key));
  }
  if (!given.has_value()) return AccessDecision::kUnauthenticated;
  std::string_view presented = *given;
  if (rule->bearer) {
    // RFC 6750: "Bearer" (any case), one space, the token.
    constexpr std::string_view kScheme = "bearer ";
    if (presented.size() < kScheme.size() ||
        !absl::EqualsIgnoreCase(ToAbsl(presented.substr(0, kScheme.size())),
                                ToAbsl(kScheme))) {
      return AccessDecision::kUnauthenticated;
    }
    presented.remove_prefix(kScheme.size());
  }
  return SecretEquals(presented, rule->value) ? AccessDecision::kAllowed
                                              : AccessDecision::kDenied;
}

absl::Status AccessPolicy::Authorize(ApiGroup group,
                                     const HeaderLookup& headers) const {
  switch (Check(group, headers)) {
    case AccessDecision::kAllowed:
      return absl::OkStatus();
    case AccessDecision::kUnauthenticated:
      return absl::UnauthenticatedError(kUnauthenticatedMessage);
    case AccessDecision::kDenied:
      return absl::PermissionDeniedError(kDeniedMessage);
  }
  return absl::OkStatus();
}

std::string AccessPolicy::Describe() const {
  std::vector<std::string> parts;
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (!rules_[i].has_value()) continue;
    parts.push_back(absl::StrCat(ToAbsl(kGroupNames[i]), " (",
                                 rules_[i]->bearer
                                     ? "bearer token"
                                     : absl::StrCat("header ", rules_[i]->key),
                                 ")"));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

}  // namespace serval
