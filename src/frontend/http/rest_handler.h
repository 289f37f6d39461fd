// Answers KServe v2 REST requests by calling ServerApi: routes, decodes,
// calls, encodes. Knows nothing about sockets, so the whole protocol is
// unit-tested with a fake ServerApi. Does not own the ServerApi or the
// blocking executor, which must outlive every pending reply. Handle is
// thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_REST_HANDLER_H_
#define SERVAL_FRONTEND_HTTP_REST_HANDLER_H_

#include "common/executor.h"
#include "frontend/http/rest_types.h"
#include "frontend/http/router.h"
#include "server/server_api.h"

namespace serval::http {

class RestHandler {
 public:
  // `blocking` runs calls that may block for long (model load/unload) off
  // the I/O threads.
  RestHandler(ServerApi* api, Executor* blocking);

  // Answers `request` through exchange->Reply, exactly once. Quick
  // endpoints reply before Handle returns; an inference replies when the
  // server completes it (exchange->OnInferComplete, then InferReply), a
  // repository call from the blocking executor.
  void Handle(const RestRequest& request, RestExchange* exchange);

 private:
  RestReply HandleQuick(const Route& route, const RestRequest& request);
  void HandleInfer(const Route& route, const RestRequest& request,
                   RestExchange* exchange);
  void HandleRepository(const Route& route, const RestRequest& request,
                        RestExchange* exchange);

  ServerApi* const api_;
  Executor* const blocking_;
};

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_REST_HANDLER_H_
