// The pixel pipeline after decoding, matching torchvision's transforms on
// PIL images: Resize (PIL's anti-aliased bilinear resampling, in PIL's
// fixed-point arithmetic, horizontal pass then vertical), CenterCrop
// (torchvision's rounding), then ToTensor + Normalize into FP32, FP16 or
// raw UINT8, NCHW or NHWC, RGB or BGR. Pure functions; thread-safe.
#ifndef SERVAL_BACKENDS_IMAGE_IMAGE_TRANSFORM_H_
#define SERVAL_BACKENDS_IMAGE_IMAGE_TRANSFORM_H_

#include <array>
#include <cstdint>

#include "image_decode.h"

namespace serval::image {

// torchvision Resize(size): the shorter side becomes `size`, the longer
// keeps the aspect ratio (truncated). Exposed for tests.
void ShorterSideTo(int size, int width, int height, int* out_w, int* out_h);

// PIL's Image.resize((w, h), BILINEAR) on 8-bit RGB.
RgbImage ResizeBilinear(const RgbImage& in, int width, int height);

// torchvision CenterCrop: offsets rounded half to even, as Python's round;
// an image smaller than the crop is padded with zeros, as torchvision does.
RgbImage CenterCrop(const RgbImage& in, int width, int height);

enum class Layout { kNchw, kNhwc };
enum class OutputType { kFp32, kFp16, kUint8 };

struct TensorOptions {
  Layout layout = Layout::kNchw;
  OutputType type = OutputType::kFp32;
  bool bgr = false;
  // Float outputs: (pixel / divisor - mean[c]) / std[c], channel order
  // RGB (torchvision's ToTensor then Normalize, in float32).
  float divisor = 255.0f;
  std::array<float, 3> mean{0, 0, 0};
  std::array<float, 3> std{1, 1, 1};
};

// Writes `image` as one item of the output tensor; `out` holds
// width * height * 3 elements of the output type.
void WriteTensor(const RgbImage& image, const TensorOptions& options,
                 void* out);

// IEEE half from float, rounding to nearest even. Exposed for tests.
uint16_t ToHalf(float f);

}  // namespace serval::image

#endif  // SERVAL_BACKENDS_IMAGE_IMAGE_TRANSFORM_H_
