#include "image_transform.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace serval::image {
namespace {

// PIL's fixed point: 22 fractional bits for 8-bit images.
constexpr int kPrecisionBits = 32 - 8 - 2;

double Triangle(double x) {
  if (x < 0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

// One axis of PIL's resampling: for each output index, the first input
// index and the fixed-point weights of the inputs it reads.
struct Coefficients {
  int taps = 0;                 // weights per output index
  std::vector<int> first;       // first input index
  std::vector<int> count;       // inputs read
  std::vector<int32_t> weight;  // taps per output index
};

Coefficients Precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filter_scale;  // bilinear support is 1
  Coefficients c;
  c.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.weight.assign(static_cast<size_t>(out_size) * c.taps, 0);
  std::vector<double> k(c.taps);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filter_scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double total = 0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = Triangle((x + xmin - center + 0.5) * ss);
      total += k[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = total != 0 ? k[x] / total : k[x];
      // PIL rounds half away from zero into fixed point.
      c.weight[static_cast<size_t>(xx) * c.taps + x] =
          static_cast<int32_t>(w < 0 ? w * (1 << kPrecisionBits) - 0.5
                                     : w * (1 << kPrecisionBits) + 0.5);
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

uint8_t Clip(int64_t v) {
  v >>= kPrecisionBits;
  return v < 0 ? 0 : v > 255 ? 255 : static_cast<uint8_t>(v);
}

RgbImage Horizontal(const RgbImage& in, int out_w) {
  const Coefficients c = Precompute(in.width, out_w);
  RgbImage out{out_w, in.height, {}};
  out.pixels.resize(static_cast<size_t>(out_w) * in.height * 3);
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* row = &in.pixels[static_cast<size_t>(y) * in.width * 3];
    uint8_t* dst = &out.pixels[static_cast<size_t>(y) * out_w * 3];
    for (int x = 0; x < out_w; ++x) {
      const int32_t* w = &c.weight[static_cast<size_t>(x) * c.taps];
      int64_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      const uint8_t* p = row + static_cast<size_t>(c.first[x]) * 3;
      for (int t = 0; t < c.count[x]; ++t, p += 3) {
        s0 += p[0] * static_cast<int64_t>(w[t]);
        s1 += p[1] * static_cast<int64_t>(w[t]);
        s2 += p[2] * static_cast<int64_t>(w[t]);
      }
      dst[x * 3] = Clip(s0);
      dst[x * 3 + 1] = Clip(s1);
      dst[x * 3 + 2] = Clip(s2);
    }
  }
  return out;
}

RgbImage Vertical(const RgbImage& in, int out_h) {
  const Coefficients c = Precompute(in.height, out_h);
  RgbImage out{in.width, out_h, {}};
  out.pixels.resize(static_cast<size_t>(in.width) * out_h * 3);
  const size_t stride = static_cast<size_t>(in.width) * 3;
  for (int y = 0; y < out_h; ++y) {
    const int32_t* w = &c.weight[static_cast<size_t>(y) * c.taps];
    uint8_t* dst = &out.pixels[static_cast<size_t>(y) * stride];
    for (size_t i = 0; i < stride; ++i) {
      int64_t s = 1 << (kPrecisionBits - 1);
      const uint8_t* p =
          &in.pixels[static_cast<size_t>(c.first[y]) * stride + i];
      for (int t = 0; t < c.count[y]; ++t, p += stride) {
        s += *p * static_cast<int64_t>(w[t]);
      }
      dst[i] = Clip(s);
    }
  }
  return out;
}

// Python's round(): halves go to the even neighbour.
int RoundHalfEven(double v) {
  const double r = std::nearbyint(v);  // default rounding mode: to even
  return static_cast<int>(r);
}

}  // namespace

void ShorterSideTo(int size, int width, int height, int* out_w, int* out_h) {
  if (width <= height) {
    *out_w = size;
    *out_h = static_cast<int>(static_cast<int64_t>(size) * height / width);
  } else {
    *out_h = size;
    *out_w = static_cast<int>(static_cast<int64_t>(size) * width / height);
  }
}

RgbImage ResizeBilinear(const RgbImage& in, int width, int height) {
  if (width == in.width && height == in.height) return in;
  // PIL: the horizontal pass first, into 8-bit rows, then the vertical.
  if (width != in.width && height != in.height) {
    return Vertical(Horizontal(in, width), height);
  }
  return width != in.width ? Horizontal(in, width) : Vertical(in, height);
}

RgbImage CenterCrop(const RgbImage& in, int width, int height) {
  RgbImage out{width, height, {}};
  out.pixels.assign(static_cast<size_t>(width) * height * 3, 0);
  const int top = RoundHalfEven((in.height - height) / 2.0);
  const int left = RoundHalfEven((in.width - width) / 2.0);
  for (int y = 0; y < height; ++y) {
    const int sy = y + top;
    if (sy < 0 || sy >= in.height) continue;
    for (int x = 0; x < width; ++x) {
      const int sx = x + left;
      if (sx < 0 || sx >= in.width) continue;
      std::memcpy(&out.pixels[(static_cast<size_t>(y) * width + x) * 3],
                  &in.pixels[(static_cast<size_t>(sy) * in.width + sx) * 3], 3);
    }
  }
  return out;
}

uint16_t ToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) {  // inf, nan
    return static_cast<uint16_t>(sign | 0x7c00 | (mant ? 0x200 : 0));
  }
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    const int shift = 14 - exp;
    uint32_t half = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1);
    const uint32_t mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return static_cast<uint16_t>(sign | half);
}

void WriteTensor(const RgbImage& image, const TensorOptions& o, void* out) {
  const size_t plane = static_cast<size_t>(image.width) * image.height;
  for (size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < 3; ++c) {
      // Output channel c reads RGB channel c, or 2 - c for BGR.
      const int src = o.bgr ? 2 - c : c;
      const uint8_t v = image.pixels[p * 3 + src];
      const size_t at = o.layout == Layout::kNchw ? c * plane + p : p * 3 + c;
      if (o.type == OutputType::kUint8) {
        static_cast<uint8_t*>(out)[at] = v;
        continue;
      }
      // torchvision: (v / 255 - mean) / std, in float32.
      const float x =
          (static_cast<float>(v) / o.divisor - o.mean[src]) / o.std[src];
      if (o.type == OutputType::kFp32) {
        static_cast<float*>(out)[at] = x;
      } else {
        static_cast<uint16_t*>(out)[at] = ToHalf(x);
      }
    }
  }
}

}  // namespace serval::image
