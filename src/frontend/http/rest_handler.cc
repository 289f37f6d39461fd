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

RestReply EncodeReply(const InferenceResponse& response,
                      const OutputEncoding& encoding) {
  if (!response.status.ok()) {
    // The id lets a client find the server's log line about its failure.
    RestReply reply = ErrorReply(response.status);
    reply.body = ErrorJson(ToStd(response.status.message()), response.id);
    return reply;
  }
  auto encoded = EncodeInferResponse(response, encoding);
  if (!encoded.ok()) return ErrorReply(encoded.status());
  RestReply reply;
  reply.body = std::move(encoded->body);
  if (encoded->json_length.has_value()) {
    reply.content_type = "application/octet-stream";
    reply.headers.emplace_back("Inference-Header-Content-Length",
                               absl::StrCat(*encoded->json_length));
  }
  return reply;
}

bool IsRawBinary(const RestRequest& request) {
  return !request.inference_header_length.has_value() &&
         absl::StartsWithIgnoreCase(ToAbsl(request.content_type),
                                    "application/octet-stream");
}

}  // namespace

RestReply ErrorReply(const absl::Status& status) {
  RestReply reply = ErrorReply(HttpStatusFor(status.code()),
                               ToStd(status.message()));
  return reply;
}

RestReply ErrorReply(int http_status, std::string_view message) {
  RestReply reply;
  reply.status = http_status;
  reply.body = ErrorJson(message);
  if (http_status == 503) reply.headers.emplace_back("Retry-After", "1");
  return reply;
}

RestHandler::RestHandler(ServerApi* api, RunFn blocking)
    : api_(api), blocking_(std::move(blocking)) {}

void RestHandler::Handle(RestRequest request, ReplyFn done,
                         RunFn on_connection) {
  auto route = ParseRoute(request.target);
  if (!route.ok()) {
    done(ErrorReply(route.status()));
    return;
  }
  if (route->endpoint == Endpoint::kLogging && request.method == "POST") {
    route->endpoint = Endpoint::kLoggingUpdate;
    route->method = "POST";
  }
  if (request.method != route->method) {
    RestReply reply = ErrorReply(
        405, absl::StrCat("method ", request.method, " not allowed on ",
                          ToAbsl(request.target.substr(
                              0, request.target.find('?'))),
                          "; use ", ToAbsl(route->method)));
    reply.headers.emplace_back("Allow", std::string(route->method));
    done(std::move(reply));
    return;
  }
  switch (route->endpoint) {
    case Endpoint::kInfer:
      HandleInfer(*route, std::move(request), std::move(done),
                  std::move(on_connection));
      return;
    case Endpoint::kRepositoryLoad:
    case Endpoint::kRepositoryUnload:
      HandleRepository(*route, std::move(request), std::move(done),
                       std::move(on_connection));
      return;
    default:
      done(HandleQuick(*route, request));
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
      auto update = ParseLogSettingsUpdate(*request.body);
      if (!update.ok()) return ErrorReply(update.status());
      return ReplyFrom(api_->UpdateLogSettings(*update), LogSettingsJson);
    }
    case Endpoint::kRepositoryIndex: {
      auto ready_only = ParseIndexReadyOnly(*request.body);
      if (!ready_only.ok()) return ErrorReply(ready_only.status());
      return JsonReply(RepositoryIndexJson(api_->GetRepositoryIndex(*ready_only)));
    }
    default:
      return ErrorReply(absl::InternalError("unrouted endpoint"));
  }
}

void RestHandler::HandleInfer(const Route& route, RestRequest request,
                              ReplyFn done, RunFn on_connection) {
  // Under overload, refuse before spending CPU on decoding the body.
  absl::Status admitted = api_->CheckAdmission(route.model, route.version);
  if (!admitted.ok()) {
    done(ErrorReply(admitted));
    return;
  }
  absl::StatusOr<DecodedInfer> decoded;
  if (IsRawBinary(request)) {
    auto metadata = api_->GetModelMetadata(route.model, route.version);
    auto config = api_->GetModelConfig(route.model, route.version);
    if (!metadata.ok()) {
      decoded = metadata.status();
    } else if (!config.ok()) {
      decoded = config.status();
    } else {
      decoded = DecodeRawInferRequest(*metadata, route.version,
                                      config->max_batch_size() > 0,
                                      request.body);
    }
  } else {
    decoded = DecodeInferRequest(route.model, route.version, request.body,
                                 request.inference_header_length);
  }
  if (!decoded.ok()) {
    done(ErrorReply(decoded.status()));
    return;
  }
  decoded->request.cancellation = std::move(request.cancellation);
  api_->Infer(
      std::move(decoded->request),
      [encoding = std::move(decoded->encoding), done = std::move(done),
       on_connection = std::move(on_connection)](
          InferenceResponse response) mutable {
        // Encode on the connection's executor, not on the worker thread
        // that completed the request: workers run models.
        // std::function needs a copyable closure; the response is
        // move-only.
        auto shared = std::make_shared<InferenceResponse>(std::move(response));
        on_connection([encoding = std::move(encoding), done = std::move(done),
                       shared = std::move(shared)]() {
          done(EncodeReply(*shared, encoding));
        });
      });
}

void RestHandler::HandleRepository(const Route& route, RestRequest request,
                                   ReplyFn done, RunFn on_connection) {
  const bool load = route.endpoint == Endpoint::kRepositoryLoad;
  absl::StatusOr<LoadOptions> options;
  absl::StatusOr<bool> dependents;
  if (load) {
    options = ParseLoadOptions(*request.body);
    if (!options.ok()) return done(ErrorReply(options.status()));
  } else {
    dependents = ParseUnloadDependents(*request.body);
    if (!dependents.ok()) return done(ErrorReply(dependents.status()));
  }
  // Loading a model can take seconds: never on an I/O thread.
  blocking_([this, load, model = route.model, options = std::move(options),
             dependents = std::move(dependents), done = std::move(done),
             on_connection = std::move(on_connection)]() mutable {
    absl::Status status = load ? api_->LoadModel(model, *options)
                               : api_->UnloadModel(model, *dependents);
    on_connection([status = std::move(status), done = std::move(done)]() {
      done(status.ok() ? EmptyReply(200) : ErrorReply(status));
    });
  });
}

}  // namespace serval::http
