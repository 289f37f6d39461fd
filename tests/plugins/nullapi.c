/* A plugin that declines to work with the host. */
#include "serval/backend.h"

SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
    const ServalHostApi* host) {
  (void)host;
  return 0;
}
