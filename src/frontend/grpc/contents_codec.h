// Tensor bytes of the gRPC protocol: typed InferTensorContents packed into
// the little-endian row-major layout the server core uses, and checks of
// raw_input_contents against a tensor's datatype and shape. Stateless.
#ifndef SERVAL_FRONTEND_GRPC_CONTENTS_CODEC_H_
#define SERVAL_FRONTEND_GRPC_CONTENTS_CODEC_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/inference.pb.h"
#include "tensor/datatype.h"
#include "tensor/tensor.h"

namespace serval {

// True when any typed field of `contents` holds a value.
bool HasTypedContents(const inference::InferTensorContents& contents);

// The InferTensorContents field that carries `type` ("fp32_contents", ...);
// empty for FP16 and BF16, which only travel as raw bytes.
std::string_view TypedContentsField(DataType type);

// Packs the typed contents of one tensor. Fails when values sit in a field
// other than the one for `type`, when the count differs from
// `element_count`, or when a value does not fit the datatype (300 as UINT8).
// Messages do not name the tensor: callers add that (Annotate).
absl::StatusOr<TensorBuffer> PackTypedContents(
    DataType type, int64_t element_count,
    const inference::InferTensorContents& contents);

}  // namespace serval

#endif  // SERVAL_FRONTEND_GRPC_CONTENTS_CODEC_H_
