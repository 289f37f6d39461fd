#include "frontend/http/rest_handler.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_map.h"
#include "frontend/http/infer_decoder.h"
#include "frontend/http/infer_encoder.h"
#include "frontend/http/rest_json.h"

namespace serval::http {
namespace {

RestReply JsonReply(std::string body) {
  RestReply reply;
  reply.body = std::move(body);
  return reply;
}

RestReply EmptyReply(int status) {
  RestReply reply;
  reply.status = status;
  reply.content_type.clear();
  return reply;
}

template <typename T, typename Fn>
RestReply ReplyFrom(const absl::StatusOr<T>& value, Fn to_json) {
  if (!value.ok()) return ErrorReply(value.status());
  return JsonReply(to_json(*value));
}

// Triton's rule: Inference-Header-Content-Length 0 means there is no JSON
// header and the whole body is the single input's data, whatever the
// Content-Type says.
bool IsRawBinary(const RestRequest& request) {
  return request.inference_header_length == 0;
}

}  // namespace

RestReply InferReply(InferenceResponse response,
                     const OutputEncoding& encoding) {
  if (!response.status.ok()) {
    // The id lets a client find the server's log line about its failure.
    RestReply reply = ErrorReply(response.status);
    reply.body = ErrorJson(ToStd(response.status.message()), response.id);
    return reply;
  }
  auto encoded = EncodeInferResponse(std::move(response), encoding);
  if (!encoded.ok()) return ErrorReply(encoded.status());
  RestReply reply;
  reply.body = std::move(encoded->json);
  reply.tail = std::move(encoded->binary);
  if (encoded->json_length.has_value()) {
    reply.content_type = "application/octet-stream";
    reply.headers.emplace_back("Inference-Header-Content-Length",
                               absl::StrCat(*encoded->json_length));
  }
  return reply;
}

RestReply ErrorReply(const absl::Status& status) {
  RestReply reply =
      ErrorReply(HttpStatusFor(status.code()), ToStd(status.message()));
  // A refusal under load says when the queued work should have drained.
  if (const uint64_t retry = RetryAfterSeconds(status); retry > 0) {
    for (auto& [name, value] : reply.headers) {
      if (name == "Retry-After") value = std::to_string(retry);
    }
  }
  return reply;
}

RestReply ErrorReply(int http_status, std::string_view message) {
  RestReply reply;
  reply.status = http_status;
  reply.body = ErrorJson(message);
  if (http_status == 503) reply.headers.emplace_back("Retry-After", "1");
  return reply;
}

RestHandler::RestHandler(ServerApi* api, Executor* blocking,
                         const AccessPolicy* access)
    : api_(api), blocking_(blocking), access_(access) {}

namespace {

// The API group of an endpoint, as Triton's --http-restricted-api names
// them.
ApiGroup GroupOf(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kHealthLive:
    case Endpoint::kHealthReady:
    case Endpoint::kModelReady:
      return ApiGroup::kHealth;
    case Endpoint::kServerMetadata:
    case Endpoint::kModelMetadata:
      return ApiGroup::kMetadata;
    case Endpoint::kModelConfig:
      return ApiGroup::kModelConfig;
    case Endpoint::kModelStats:
      return ApiGroup::kStatistics;
    case Endpoint::kInfer:
      return ApiGroup::kInference;
    case Endpoint::kRepositoryIndex:
    case Endpoint::kRepositoryLoad:
    case Endpoint::kRepositoryUnload:
      return ApiGroup::kModelRepository;
    case Endpoint::kLogging:
    case Endpoint::kLoggingUpdate:
      return ApiGroup::kLogging;
    case Endpoint::kSystemShmStatus:
    case Endpoint::kSystemShmRegister:
    case Endpoint::kSystemShmUnregister:
    case Endpoint::kCudaShmStatus:
    case Endpoint::kCudaShmRegister:
    case Endpoint::kCudaShmUnregister:
      return ApiGroup::kSharedMemory;
    case Endpoint::kTraceSetting:
    case Endpoint::kTraceSettingUpdate:
      return ApiGroup::kTrace;
  }
  return ApiGroup::kInference;
}

}  // namespace

std::optional<RestReply> RestHandler::CheckAccessFor(
    std::string_view target, const AccessPolicy::HeaderLookup* headers) const {
  // Nothing restricted (the default): no route to parse for it.
  if (access_ == nullptr || !access_->restricts_any()) return std::nullopt;
  auto route = ParseRoute(target);
  // An unknown path is answered 404 by Handle, whoever asks.
  if (!route.ok()) return std::nullopt;
  return CheckAccess(route->endpoint, headers);
}

std::optional<RestReply> RestHandler::CheckAccess(
    Endpoint endpoint, const AccessPolicy::HeaderLookup* headers) const {
  if (access_ == nullptr) return std::nullopt;
  const ApiGroup group = GroupOf(endpoint);
  if (!access_->restricts(group)) return std::nullopt;
  static const AccessPolicy::HeaderLookup kNoHeaders =
      [](std::string_view) -> std::optional<std::string_view> {
    return std::nullopt;
  };
  const absl::Status refused =
      access_->Authorize(group, headers != nullptr ? *headers : kNoHeaders);
  if (refused.ok()) return std::nullopt;
  RestReply reply = ErrorReply(refused);
  if (absl::IsUnauthenticated(refused) && access_->wants_bearer(group)) {
    reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"serval\"");
  }
  return reply;
}

void RestHandler::Handle(const RestRequest& request, RestExchange* exchange) {
  auto route = ParseRoute(request.target);
  if (!route.ok()) {
    exchange->Reply(ErrorReply(route.status()));
    return;
  }
  // Before anything about the endpoint is said (even its methods).
  if (!request.access_checked) {
    if (auto refused = CheckAccess(route->endpoint, request.headers)) {
      exchange->Reply(*std::move(refused));
      return;
    }
  }
  if (route->endpoint == Endpoint::kLogging && request.method == "POST") {
    route->endpoint = Endpoint::kLoggingUpdate;
    route->method = "POST";
  }
  if (route->endpoint == Endpoint::kTraceSetting && request.method == "POST") {
    route->endpoint = Endpoint::kTraceSettingUpdate;
    route->method = "POST";
  }
  if (request.method != route->method) {
    RestReply reply = ErrorReply(
        405,
        absl::StrCat("method ", ToAbsl(request.method), " not allowed on ",
                     ToAbsl(request.target.substr(0, request.target.find('?'))),
                     "; use ", ToAbsl(route->method)));
    reply.headers.emplace_back("Allow", std::string(route->method));
    exchange->Reply(std::move(reply));
    return;
  }
  switch (route->endpoint) {
    case Endpoint::kInfer:
      HandleInfer(*route, request, exchange);
      return;
    case Endpoint::kRepositoryLoad:
    case Endpoint::kRepositoryUnload:
      HandleRepository(*route, request, exchange);
      return;
    default:
      exchange->Reply(HandleQuick(*route, request));
      return;
  }
}

RestReply RestHandler::HandleQuick(const Route& route,
                                   const RestRequest& request) {
  const std::string& model = route.model;
  switch (route.endpoint) {
    case Endpoint::kHealthLive:
      return EmptyReply(api_->IsLive() ? 200 : 503);
    case Endpoint::kHealthReady:
      return EmptyReply(api_->IsReady() ? 200 : 503);
    case Endpoint::kServerMetadata:
      return JsonReply(ServerMetadataJson(api_->GetServerMetadata()));
    case Endpoint::kModelMetadata:
      return ReplyFrom(api_->GetModelMetadata(model, route.version),
                       ModelMetadataJson);
    case Endpoint::kModelReady: {
      auto ready = api_->IsModelReady(model, route.version);
      if (!ready.ok()) return ErrorReply(ready.status());
      return EmptyReply(*ready ? 200 : 503);
    }
    case Endpoint::kModelConfig: {
      auto config = api_->GetModelConfig(model, route.version);
      if (!config.ok()) return ErrorReply(config.status());
      auto json = ModelConfigJson(*config);
      if (!json.ok()) return ErrorReply(json.status());
      return JsonReply(*std::move(json));
    }
    case Endpoint::kModelStats:
      return ReplyFrom(api_->GetModelStatistics(model, route.version),
                       ModelStatisticsJson);
    case Endpoint::kLogging:
      return ReplyFrom(api_->GetLogSettings(), LogSettingsJson);
    case Endpoint::kLoggingUpdate: {
      auto update = ParseLogSettingsUpdate(request.body);
      if (!update.ok()) return ErrorReply(update.status());
      return ReplyFrom(api_->UpdateLogSettings(*update), LogSettingsJson);
    }
    case Endpoint::kRepositoryIndex: {
      auto ready_only = ParseIndexReadyOnly(request.body);
      if (!ready_only.ok()) return ErrorReply(ready_only.status());
      return JsonReply(
          RepositoryIndexJson(api_->GetRepositoryIndex(*ready_only)));
    }
    case Endpoint::kSystemShmStatus:
      return ReplyFrom(api_->GetSystemSharedMemoryStatus(route.region),
                       SharedMemoryStatusJson);
    case Endpoint::kSystemShmRegister: {
      if (route.region.empty()) {
        return ErrorReply(absl::InvalidArgumentError(
            "'region name' is necessary to register system shared memory "
            "region"));
      }
      auto r = ParseSharedMemoryRegister(request.body);
      if (!r.ok()) return ErrorReply(r.status());
      absl::Status s = api_->RegisterSystemSharedMemory(
          route.region, r->key, r->offset, r->byte_size);
      return s.ok() ? EmptyReply(200) : ErrorReply(s);
    }
    case Endpoint::kSystemShmUnregister: {
      absl::Status s = api_->UnregisterSystemSharedMemory(route.region);
      return s.ok() ? EmptyReply(200) : ErrorReply(s);
    }
    case Endpoint::kCudaShmStatus:
      // No GPU memory to share: no regions.
      return JsonReply("[]");
    case Endpoint::kCudaShmRegister: {
      if (route.region.empty()) {
        return ErrorReply(absl::InvalidArgumentError(
            "'region name' is necessary to register cuda shared memory "
            "region"));
      }
      return ErrorReply(api_->RegisterCudaSharedMemory(route.region));
    }
    case Endpoint::kCudaShmUnregister: {
      absl::Status s = api_->UnregisterCudaSharedMemory(route.region);
      return s.ok() ? EmptyReply(200) : ErrorReply(s);
    }
    case Endpoint::kTraceSetting:
      return ReplyFrom(api_->GetTraceSettings(route.model), TraceSettingsJson);
    case Endpoint::kTraceSettingUpdate: {
      auto updates = ParseTraceSettingsUpdate(request.body);
      if (!updates.ok()) return ErrorReply(updates.status());
      return ReplyFrom(api_->UpdateTraceSettings(route.model, *updates),
                       TraceSettingsJson);
    }
    default:
      return ErrorReply(absl::InternalError("unrouted endpoint"));
  }
}

void RestHandler::HandleInfer(const Route& route, const RestRequest& request,
                              RestExchange* exchange) {
  // One lookup per request: the resolved version goes from admission to
  // Infer.
  absl::StatusOr<ModelRef> model = api_->Resolve(route.model, route.version);
  if (!model.ok()) return exchange->Reply(ErrorReply(model.status()));
  // Under overload, refuse before spending CPU on decoding the body.
  if (absl::Status admitted = api_->CheckAdmission(*model); !admitted.ok()) {
    return exchange->Reply(ErrorReply(admitted));
  }
  absl::StatusOr<DecodedInfer> decoded =
      IsRawBinary(request)
          ? DecodeRawInferRequest(model->name(), model->spec(), request.body)
          : DecodeInferRequest(route.model, route.version, request.body,
                               request.inference_header_length, api_);
  if (!decoded.ok()) return exchange->Reply(ErrorReply(decoded.status()));
  decoded->request.cancellation = request.cancellation;
  exchange->encoding = std::move(decoded->encoding);
  api_->Infer(*model, std::move(decoded->request), exchange);
}

void RestHandler::HandleRepository(const Route& route,
                                   const RestRequest& request,
                                   RestExchange* exchange) {
  const bool load = route.endpoint == Endpoint::kRepositoryLoad;
  absl::StatusOr<LoadOptions> options;
  absl::StatusOr<bool> dependents;
  if (load) {
    options = ParseLoadOptions(request.body);
    if (!options.ok()) return exchange->Reply(ErrorReply(options.status()));
  } else {
    dependents = ParseUnloadDependents(request.body);
    if (!dependents.ok()) {
      return exchange->Reply(ErrorReply(dependents.status()));
    }
  }
  // Loading a model can take seconds: never on an I/O thread.
  blocking_->Post([this, load, model = route.model,
                   options = std::move(options),
                   dependents = std::move(dependents), exchange]() mutable {
    absl::Status status = load ? api_->LoadModel(model, *options)
                               : api_->UnloadModel(model, *dependents);
    exchange->Reply(status.ok() ? EmptyReply(200) : ErrorReply(status));
  });
}

}  // namespace serval::http
