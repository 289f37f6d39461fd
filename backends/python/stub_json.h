// RapidJSON for the messages of a Python stub; every file of this plugin
// includes RapidJSON through this header only. A message that lacks what
// it should (a bug, or a stub replaced by something else) must fail a
// batch, not abort the server: RapidJSON's assertions throw here.
#ifndef SERVAL_BACKENDS_PYTHON_STUB_JSON_H_
#define SERVAL_BACKENDS_PYTHON_STUB_JSON_H_

#include <stdexcept>

#define RAPIDJSON_ASSERT(x) \
  ((x) ? (void)0            \
       : throw std::runtime_error("malformed message from the Python stub"))

#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

#endif  // SERVAL_BACKENDS_PYTHON_STUB_JSON_H_
