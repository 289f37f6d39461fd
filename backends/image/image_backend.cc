// image backend: JPEG or PNG bytes in, a normalised image tensor out, so
// that clients send photos and an ensemble feeds the model. One BYTES input
// holding one encoded image per item; one output, FP32, FP16 or UINT8,
// [3, H, W] (layout NCHW, the default) or [H, W, 3] (NHWC): H x W is the
// crop. Parameters (all optional):
//   resize        shorter side before the crop (torchvision Resize(int));
//                 default: the crop's shorter side. "WxH" resizes exactly.
//   mean, std     three comma-separated floats, RGB order, in units of
//                 pixel/255 (torchvision Normalize); default 0,0,0 / 1,1,1.
//                 Not allowed with a UINT8 output (raw pixels).
//   color         RGB (default) or BGR channel order.
//   layout        NCHW (default) or NHWC.
//   max_pixels    the largest width x height accepted (default 40000000);
//                 bigger images are refused from their header.
//   exif_orientation  true (default): JPEGs are turned upright first.
//   dct_scaling   true: large JPEGs decode at 1/2..1/8 size in the DCT
//                 domain while staying >= 2x the resize target (faster,
//                 slightly different pixels from PIL's); default false.
// A bad image fails its own request (400 naming the input and the reason),
// not the batch. Built against include/serval/backend.h alone.
#include <stdint.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "image_decode.h"
#include "image_transform.h"
#include "serval/backend.h"
#include "serval/backend_util.h"
#include "serval/model_only_plugin.h"

namespace {

using serval::backend_util::FindParameter;
using serval::backend_util::ParseBool;
using serval::backend_util::ParsePositiveInt;
using serval::backend_util::PluginError;
using serval::backend_util::ThrowIfError;
namespace img = serval::image;

void Configure(const ServalModelInfo& info, ServalModelState* m);
void RunBatch(const ServalModelState& m, ServalBatch* batch);
using Plugin = serval::backend_util::ModelOnlyPlugin<ServalModelState,
                                                     &Configure, &RunBatch>;
const ServalHostApi* Host() { return Plugin::host(); }

}  // namespace

struct ServalModelState {
  std::string name;
  std::string input;
  std::string output;
  int32_t output_type = SERVAL_TYPE_FP32;
  bool batching = false;
  int crop_w = 0, crop_h = 0;
  int resize_short = 0;            // > 0: shorter side
  int resize_w = 0, resize_h = 0;  // > 0: exact
  img::TensorOptions tensor;
  img::DecodeOptions decode;
  bool dct_scaling = false;
};

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::array<float, 3> ParseTriple(std::string_view key, std::string_view text) {
  std::array<float, 3> out{};
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t comma = text.find(',', start);
    std::string part(text.substr(start, comma == std::string_view::npos
                                            ? std::string_view::npos
                                            : comma - start));
    char* end = nullptr;
    out[i] = std::strtof(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size() ||
        (i < 2) == (comma == std::string_view::npos)) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "parameter " + Quote(key) +
                            " must be three comma-separated numbers (R,G,B), "
                            "got " +
                            Quote(text));
    }
    start = comma + 1;
  }
  return out;
}

void Configure(const ServalModelInfo& info, ServalModelState* m) {
  if (info.input_count != 1 || info.inputs[0].datatype != SERVAL_TYPE_BYTES) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "the image backend takes one BYTES input (the encoded "
                      "image); the config declares " +
                          std::to_string(info.input_count) + " input(s)");
  }
  const ServalTensorSpec& in = info.inputs[0];
  if (!(in.rank == 1 && in.dims[0] == 1)) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "input " + Quote(in.name) +
                          " must have dims [ 1 ]: one encoded image per item");
  }
  if (info.output_count != 1) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "the image backend has one output (the image tensor); "
                      "the config declares " +
                          std::to_string(info.output_count));
  }
  const ServalTensorSpec& out = info.outputs[0];
  m->input = in.name;
  m->output = out.name;
  m->output_type = out.datatype;
  m->batching = info.max_batch_size > 0;
  switch (out.datatype) {
    case SERVAL_TYPE_FP32:
      m->tensor.type = img::OutputType::kFp32;
      break;
    case SERVAL_TYPE_FP16:
      m->tensor.type = img::OutputType::kFp16;
      break;
    case SERVAL_TYPE_UINT8:
      m->tensor.type = img::OutputType::kUint8;
      break;
    default:
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "output " + Quote(out.name) +
                            " must be TYPE_FP32, TYPE_FP16 or TYPE_UINT8");
  }
  if (auto v = FindParameter(info, "layout")) {
    if (*v == "NHWC") {
      m->tensor.layout = img::Layout::kNhwc;
    } else if (*v != "NCHW") {
      throw PluginError(
          SERVAL_INVALID_ARGUMENT,
          "parameter 'layout' must be NCHW or NHWC, got " + Quote(*v));
    }
  }
  const bool nchw = m->tensor.layout == img::Layout::kNchw;
  if (out.rank != 3 || out.dims[nchw ? 0 : 2] != 3 ||
      out.dims[nchw ? 1 : 0] < 1 || out.dims[nchw ? 2 : 1] < 1) {
    throw PluginError(
        SERVAL_INVALID_ARGUMENT,
        "output " + Quote(out.name) + " must have dims " +
            (nchw ? "[ 3, H, W ] (layout NCHW)" : "[ H, W, 3 ] (layout NHWC)") +
            " with fixed H and W: the crop");
  }
  m->crop_h = static_cast<int>(out.dims[nchw ? 1 : 0]);
  m->crop_w = static_cast<int>(out.dims[nchw ? 2 : 1]);
  m->resize_short = std::min(m->crop_w, m->crop_h);
  if (auto v = FindParameter(info, "resize")) {
    const size_t x = v->find('x');
    if (x == std::string_view::npos) {
      m->resize_short = ParsePositiveInt("resize", *v, 16384);
    } else {
      m->resize_short = 0;
      m->resize_w = ParsePositiveInt("resize", v->substr(0, x), 16384);
      m->resize_h = ParsePositiveInt("resize", v->substr(x + 1), 16384);
    }
  }
  const bool raw = m->tensor.type == img::OutputType::kUint8;
  if (auto v = FindParameter(info, "mean")) {
    if (raw) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "parameter 'mean' does not apply to a UINT8 output "
                        "(raw pixels)");
    }
    m->tensor.mean = ParseTriple("mean", *v);
  }
  if (auto v = FindParameter(info, "std")) {
    if (raw) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "parameter 'std' does not apply to a UINT8 output "
                        "(raw pixels)");
    }
    m->tensor.std = ParseTriple("std", *v);
    for (float s : m->tensor.std) {
      if (!(s > 0)) {
        throw PluginError(SERVAL_INVALID_ARGUMENT,
                          "parameter 'std' must be three positive numbers");
      }
    }
  }
  if (auto v = FindParameter(info, "color")) {
    if (*v == "BGR") {
      m->tensor.bgr = true;
    } else if (*v != "RGB") {
      throw PluginError(
          SERVAL_INVALID_ARGUMENT,
          "parameter 'color' must be RGB or BGR, got " + Quote(*v));
    }
  }
  if (auto v = FindParameter(info, "max_pixels")) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || end != v->data() + v->size() || n == 0) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "parameter 'max_pixels' must be a positive integer, "
                        "got " +
                            Quote(*v));
    }
    m->decode.max_pixels = n;
  }
  if (auto v = FindParameter(info, "exif_orientation")) {
    m->decode.exif_orientation = ParseBool("exif_orientation", *v);
  }
  if (auto v = FindParameter(info, "dct_scaling")) {
    m->dct_scaling = ParseBool("dct_scaling", *v);
  }
}

// The tensor of one encoded image, or false with `error`.
bool Process(const ServalModelState& m, std::string_view encoded, void* out,
             std::string* error) {
  img::DecodeOptions decode = m.decode;
  if (m.dct_scaling) {
    const int target =
        m.resize_short > 0 ? m.resize_short : std::max(m.resize_w, m.resize_h);
    decode.min_width = decode.min_height = 2 * target;
  }
  img::RgbImage image;
  if (!img::Decode(encoded, decode, &image, error)) return false;
  int w = m.resize_w, h = m.resize_h;
  if (m.resize_short > 0) {
    img::ShorterSideTo(m.resize_short, image.width, image.height, &w, &h);
  }
  if (w < 1 || h < 1) {
    *error = "image of " + std::to_string(image.width) + "x" +
             std::to_string(image.height) + " pixels is too thin to resize";
    return false;
  }
  // A thin image's longer side grows with the resize (1x10000 to
  // 256x2560000): bounded like the decoded size.
  if (static_cast<uint64_t>(w) * h > m.decode.max_pixels) {
    *error = "image of " + std::to_string(image.width) + "x" +
             std::to_string(image.height) + " pixels would resize to " +
             std::to_string(w) + "x" + std::to_string(h) +
             ", more than max_pixels";
    return false;
  }
  img::RgbImage resized = img::ResizeBilinear(image, w, h);
  img::RgbImage cropped = img::CenterCrop(resized, m.crop_w, m.crop_h);
  img::WriteTensor(cropped, m.tensor, out);
  return true;
}

size_t ElementSize(int32_t type) {
  return type == SERVAL_TYPE_FP32 ? 4 : type == SERVAL_TYPE_FP16 ? 2 : 1;
}

void RunBatch(const ServalModelState& m, ServalBatch* batch) {
  const ServalTensor* inputs = nullptr;
  uint32_t count = 0;
  ThrowIfError(Host()->batch_inputs(batch, &inputs, &count));
  if (count != 1) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "input " + Quote(m.input) + " is missing");
  }
  const ServalTensor& in = inputs[0];
  int64_t images = 1;
  for (uint32_t d = 0; d < in.rank; ++d) images *= in.shape[d];
  const int64_t batch_items = m.batching ? in.shape[0] : 1;
  // One image per item (the config's dims [ 1 ], which the host checked):
  // the output holds batch_items images, no more.
  if (images != batch_items) {
    throw PluginError(
        SERVAL_INVALID_ARGUMENT,
        "input " + Quote(m.input) + " must hold one image per batch item");
  }
  std::vector<int64_t> shape;
  if (m.batching) shape.push_back(batch_items);
  const bool nchw = m.tensor.layout == img::Layout::kNchw;
  for (int64_t d : nchw ? std::vector<int64_t>{3, m.crop_h, m.crop_w}
                        : std::vector<int64_t>{m.crop_h, m.crop_w, 3}) {
    shape.push_back(d);
  }
  const size_t item_bytes =
      static_cast<size_t>(m.crop_w) * m.crop_h * 3 * ElementSize(m.output_type);
  void* buffer = nullptr;
  ThrowIfError(Host()->batch_output_buffer(
      batch, m.output.c_str(), m.output_type, shape.data(),
      static_cast<uint32_t>(shape.size()), item_bytes * batch_items, &buffer));
  // Which request each item belongs to, to fail a bad image's request only.
  const bool per_request = SERVAL_HOST_HAS(Host(), batch_request_fail);
  const uint32_t requests = Host()->batch_request_count(batch);
  uint32_t request = 0;
  uint64_t request_end =
      per_request ? Host()->batch_request_items(batch, 0) : 0;
  const char* p = static_cast<const char*>(in.data);
  const char* end = p + in.byte_size;
  for (int64_t i = 0; i < images; ++i) {
    while (per_request && request + 1 < requests &&
           static_cast<uint64_t>(i) >= request_end) {
      request_end += Host()->batch_request_items(batch, ++request);
    }
    uint32_t len = 0;
    if (end - p < 4) throw PluginError(SERVAL_INVALID_ARGUMENT, "bad BYTES");
    std::memcpy(&len, p, 4);
    p += 4;
    if (static_cast<uint64_t>(end - p) < len) {
      throw PluginError(SERVAL_INVALID_ARGUMENT, "bad BYTES");
    }
    std::string error;
    char* item = static_cast<char*>(buffer) + item_bytes * i;
    if (!Process(m, std::string_view(p, len), item, &error)) {
      const std::string message =
          "image model '" + m.name + "' input " + Quote(m.input) +
          (images > 1 ? " item " + std::to_string(i) : std::string()) + ": " +
          error;
      if (!per_request || requests == 1) {
        throw PluginError(SERVAL_INVALID_ARGUMENT, message);
      }
      Host()->batch_request_fail(
          batch, request,
          Host()->error_new(SERVAL_INVALID_ARGUMENT, message.c_str()));
      std::memset(item, 0, item_bytes);
    }
    p += len;
  }
}

}  // namespace

extern "C" SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
    const ServalHostApi* host) {
  return Plugin::Api(host, "image");
}
