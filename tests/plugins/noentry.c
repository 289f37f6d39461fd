/* A shared library that is not a backend: it exports a symbol, but not the
 * entry point. */
#include "serval/backend.h"

SERVAL_EXPORT int ServalNotTheEntryPoint(void) { return 0; }
