// Answers KServe v2 REST requests by calling ServerApi: routes, decodes,
// calls, encodes. Knows nothing about sockets, so the whole protocol is
// unit-tested with a fake ServerApi. Does not own the ServerApi, which must
// outlive every pending reply. Handle is thread-safe.
#ifndef SERVAL_FRONTEND_HTTP_REST_HANDLER_H_
#define SERVAL_FRONTEND_HTTP_REST_HANDLER_H_

#include <functional>

#include "frontend/http/rest_types.h"
#include "frontend/http/router.h"
#include "server/server_api.h"

namespace serval::http {

// Runs a closure on some thread; used for hand-offs between threads.
using RunFn = std::function<void(std::function<void()>)>;

class RestHandler {
 public:
  // `blocking` runs calls that may block for long (model load/unload) off
  // the I/O threads.
  RestHandler(ServerApi* api, RunFn blocking);

  // Answers `request` through `done`, exactly once. Quick endpoints answer
  // before Handle returns. Infer and repository calls complete later on
  // another thread and hand the encoding back through `on_connection`, so
  // encoding and `done` run on the connection's executor.
  void Handle(RestRequest request, ReplyFn done, RunFn on_connection);

 private:
  RestReply HandleQuick(const Route& route, const RestRequest& request);
  void HandleInfer(const Route& route, RestRequest request, ReplyFn done,
                   RunFn on_connection);
  void HandleRepository(const Route& route, RestRequest request, ReplyFn done,
                        RunFn on_connection);

  ServerApi* const api_;
  const RunFn blocking_;
};

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_REST_HANDLER_H_
