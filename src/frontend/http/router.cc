#include "frontend/http/router.h"

#include <charconv>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace serval::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed %-escape in URL path segment '", ToAbsl(s), "'"));
    }
    const int hi = HexValue(s[i + 1]);
    const int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed %-escape in URL path segment '", ToAbsl(s), "'"));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

absl::StatusOr<int64_t> ParseVersion(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "failed to get model version from specified version string '",
        ToAbsl(s), "': a model version is a non-negative integer"));
  }
  return v;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    const size_t end = path.find('/', pos);
    const size_t stop = end == std::string_view::npos ? path.size() : end;
    parts.push_back(path.substr(pos, stop - pos));
    pos = stop;
  }
  return parts;
}

absl::Status NotFound(std::string_view path) {
  return absl::NotFoundError(
      absl::StrCat("no endpoint at '", ToAbsl(path), "'"));
}

// Parses the tail after /v2/models/{m}[/versions/{v}].
absl::StatusOr<Route> ModelRoute(std::string_view path,
                                 const std::vector<std::string_view>& p) {
  // p[0]="v2", p[1]="models", p[2]=model.
  Route route;
  ASSIGN_OR_RETURN(auto model, PercentDecode(p[2]));
  route.model = std::move(model);
  size_t i = 3;
  if (p.size() >= 5 && p[3] == "versions") {
    ASSIGN_OR_RETURN(auto version, ParseVersion(p[4]));
    route.version = version;
    i = 5;
  }
  if (i == p.size()) {
    route.endpoint = Endpoint::kModelMetadata;
    return route;
  }
  if (i + 1 != p.size()) return NotFound(path);
  const std::string_view leaf = p[i];
  if (leaf == "ready") {
    route.endpoint = Endpoint::kModelReady;
  } else if (leaf == "config") {
    route.endpoint = Endpoint::kModelConfig;
  } else if (leaf == "stats") {
    route.endpoint = Endpoint::kModelStats;
  } else if (leaf == "infer") {
    route.endpoint = Endpoint::kInfer;
    route.method = "POST";
  } else {
    return NotFound(path);
  }
  return route;
}

// /v2/{system,cuda}sharedmemory[/region/{r}]/{status,register,unregister}.
absl::StatusOr<Route> SharedMemoryRoute(
    std::string_view path, const std::vector<std::string_view>& p) {
  const bool cuda = p[1] == "cudasharedmemory";
  Route route;
  size_t i = 2;
  if (p.size() >= 4 && p[2] == "region") {
    ASSIGN_OR_RETURN(route.region, PercentDecode(p[3]));
    i = 4;
  }
  if (i + 1 != p.size()) return NotFound(path);
  if (p[i] == "status") {
    route.endpoint =
        cuda ? Endpoint::kCudaShmStatus : Endpoint::kSystemShmStatus;
  } else if (p[i] == "register") {
    route.endpoint =
        cuda ? Endpoint::kCudaShmRegister : Endpoint::kSystemShmRegister;
    route.method = "POST";
  } else if (p[i] == "unregister") {
    route.endpoint =
        cuda ? Endpoint::kCudaShmUnregister : Endpoint::kSystemShmUnregister;
    route.method = "POST";
  } else {
    return NotFound(path);
  }
  return route;
}

}  // namespace

absl::StatusOr<Route> ParseRoute(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  const std::vector<std::string_view> p = SplitPath(path);
  if (p.empty() || p[0] != "v2") return NotFound(path);
  Route route;
  if (p.size() == 1) {
    route.endpoint = Endpoint::kServerMetadata;
    return route;
  }
  if (p[1] == "health" && p.size() == 3) {
    if (p[2] == "live") {
      route.endpoint = Endpoint::kHealthLive;
      return route;
    }
    if (p[2] == "ready") {
      route.endpoint = Endpoint::kHealthReady;
      return route;
    }
    return NotFound(path);
  }
  if (p[1] == "logging" && p.size() == 2) {
    route.endpoint = Endpoint::kLogging;
    return route;
  }
  if (p[1] == "repository") {
    route.method = "POST";
    if (p.size() == 3 && p[2] == "index") {
      route.endpoint = Endpoint::kRepositoryIndex;
      return route;
    }
    if (p.size() == 5 && p[2] == "models" &&
        (p[4] == "load" || p[4] == "unload")) {
      ASSIGN_OR_RETURN(auto model, PercentDecode(p[3]));
      route.model = std::move(model);
      route.endpoint = p[4] == "load" ? Endpoint::kRepositoryLoad
                                      : Endpoint::kRepositoryUnload;
      return route;
    }
    return NotFound(path);
  }
  if (p[1] == "systemsharedmemory" || p[1] == "cudasharedmemory") {
    return SharedMemoryRoute(path, p);
  }
  if (p[1] == "trace" && p.size() == 3 && p[2] == "setting") {
    route.endpoint = Endpoint::kTraceSetting;
    return route;
  }
  if (p[1] == "models") {
    if (p.size() == 3 && p[2] == "stats") {
      route.endpoint = Endpoint::kModelStats;
      return route;
    }
    // /v2/models/{m}/trace/setting (no version: settings are per model).
    if (p.size() == 5 && p[3] == "trace" && p[4] == "setting") {
      ASSIGN_OR_RETURN(route.model, PercentDecode(p[2]));
      route.endpoint = Endpoint::kTraceSetting;
      return route;
    }
    if (p.size() >= 3) return ModelRoute(path, p);
  }
  return NotFound(path);
}

}  // namespace serval::http
