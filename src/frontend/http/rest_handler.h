// Answers KServe v2 REST requests by calling ServerApi: routes, decodes,
// calls, encodes. Knows nothing about sockets, so the whole protocol is
// unit-tested with a fake ServerApi. Does not own the ServerApi or the
// blocking executor, which must outlive every pending reply. Handle is
// thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_REST_HANDLER_H_
#define SERVAL_FRONTEND_HTTP_REST_HANDLER_H_

#include <optional>
#include <string_view>

#include "common/executor.h"
#include "frontend/http/rest_types.h"
#include "frontend/http/router.h"
#include "server/server_api.h"

namespace serval::http {

class RestHandler {
 public:
  // `blocking` runs calls that may block for long (model load/unload) off
  // the I/O threads. `access` (not owned; null: every endpoint open)
  // decides which requests may reach their endpoint.
  RestHandler(ServerApi* api, Executor* blocking,
              const AccessPolicy* access = nullptr);

  // Answers `request` through exchange->Reply, exactly once. Quick
  // endpoints reply before Handle returns; an inference replies when the
  // server completes it (exchange->OnInferComplete, then InferReply), a
  // repository call from the blocking executor.
  void Handle(const RestRequest& request, RestExchange* exchange);

  // The refusal of a request to `target` whose headers the access policy
  // does not accept, decided from the header alone (before its body is
  // read); nullopt when it may go on, and then the request is passed to
  // Handle with access_checked set. Thread-safe.
  std::optional<RestReply> CheckAccessFor(
      std::string_view target, const AccessPolicy::HeaderLookup* headers) const;

 private:
  RestReply HandleQuick(const Route& route, const RestRequest& request);
  void HandleInfer(const Route& route, const RestRequest& request,
                   RestExchange* exchange);
  void HandleRepository(const Route& route, const RestRequest& request,
                        RestExchange* exchange);

  // The refusal of a request whose credentials `access_` does not accept;
  // nullopt when it may proceed.
  std::optional<RestReply> CheckAccess(
      Endpoint endpoint, const AccessPolicy::HeaderLookup* headers) const;

  ServerApi* const api_;
  Executor* const blocking_;
  const AccessPolicy* const access_;
};

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_REST_HANDLER_H_
