// The model the infer fuzzers decode requests for: a batching model with an
// input of each kind of shape and datatype the decoders treat apart (fixed
// FP32, variable INT64, BYTES, BOOL, FP16), so a decoded request meets the
// same validation a real one does.
#ifndef SERVAL_TESTS_FUZZ_FUZZ_SPEC_H_
#define SERVAL_TESTS_FUZZ_FUZZ_SPEC_H_

#include "config/model_spec.h"

namespace serval::fuzz {

inline const ModelSpec& FuzzSpec() {
  static const ModelSpec* spec = [] {
    auto* s = new ModelSpec();
    s->name = "m";
    s->max_batch_size = 8;
    s->inputs = {{"a", DataType::kFp32, {2}},
                 {"ids", DataType::kInt64, {-1}},
                 {"text", DataType::kBytes, {1}},
                 {"mask", DataType::kBool, {2, 2}},
                 {"half", DataType::kFp16, {-1, 3}}};
    s->outputs = {{"a_out", DataType::kFp32, {2}}};
    return s;
  }();
  return *spec;
}

}  // namespace serval::fuzz

#endif  // SERVAL_TESTS_FUZZ_FUZZ_SPEC_H_
