// An infer request body as the HTTP frontend decodes it, then validated
// against a model as the server does. The first byte picks the form: JSON
// only, JSON followed by binary tensors (the next two bytes are the
// Inference-Header-Content-Length, so the split point moves through the
// body), or the header-less raw binary form.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "frontend/http/infer_decoder.h"
#include "fuzz_spec.h"
#include "server/request_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const serval::ModelSpec& spec = serval::fuzz::FuzzSpec();
  const uint8_t form = data[0] % 3;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  absl::StatusOr<serval::http::DecodedInfer> decoded;
  if (form == 0) {
    decoded = serval::http::DecodeInferRequest("m", -1, body, std::nullopt);
  } else if (form == 1) {
    if (body.size() < 2) return 0;
    const size_t header_length =
        static_cast<uint8_t>(body[0]) | (static_cast<uint8_t>(body[1]) << 8);
    body.remove_prefix(2);
    decoded = serval::http::DecodeInferRequest("m", 3, body, header_length);
  } else {
    // The raw form needs a model with one input.
    serval::ModelSpec one = spec;
    one.inputs.resize(1);
    if (!body.empty() && body[0] == 'b') one.inputs[0] = spec.inputs[2];
    decoded = serval::http::DecodeRawInferRequest("m", one, body);
    if (decoded.ok()) {
      (void)serval::ValidateRequest("m", one, decoded->request);
    }
    return 0;
  }
  if (decoded.ok()) {
    (void)decoded->encoding.IsBinary("a_out");
    (void)serval::ValidateRequest("m", spec, decoded->request);
  }
  return 0;
}
