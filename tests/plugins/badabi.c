/* A plugin from a future, incompatible ABI: the host must refuse it by its
 * major version before calling anything in the table. */
#include "serval/backend.h"

static const ServalBackendApi kApi = {
    sizeof(ServalBackendApi), SERVAL_BACKEND_ABI_MAJOR + 1, 0, "badabi",
    /* Every function is NULL: a host that calls one has already failed. */
    0, 0, 0, 0, 0, 0};

SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
    const ServalHostApi* host) {
  (void)host;
  return &kApi;
}
