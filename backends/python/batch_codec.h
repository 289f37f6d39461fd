// The execute exchange of one batch, in the stub's terms: EncodeExecute
// writes every input into the input region once (the batch's tensors are
// contiguous, each request is a slice of rows) and describes each request
// in the message; ApplyResult checks each request's response against the
// config (names, datatypes, rows) and copies the outputs from the output
// region into the batch, failing just the requests whose response is wrong.
#ifndef SERVAL_BACKENDS_PYTHON_BATCH_CODEC_H_
#define SERVAL_BACKENDS_PYTHON_BATCH_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "python_model.h"
#include "serval/backend.h"
#include "shared_region.h"

namespace serval::python {

// Rows each request of the batch contributes (1 for a model that does not
// batch), filled by EncodeExecute for ApplyResult.
using RequestRows = std::vector<uint64_t>;

std::string EncodeExecute(const ServalHostApi& host, ServalBatch* batch,
                          const PythonModel& model, SharedRegion* inputs,
                          RequestRows* rows);

// `reply` is the stub's "result" message (without a top-level error).
// Throws PluginError or HostError for what fails the whole batch.
void ApplyResult(const ServalHostApi& host, ServalBatch* batch,
                 const PythonModel& model, const std::string& reply,
                 SharedRegion* outputs, const RequestRows& rows);

}  // namespace serval::python

#endif  // SERVAL_BACKENDS_PYTHON_BATCH_CODEC_H_
