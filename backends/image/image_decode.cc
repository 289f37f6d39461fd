#include "image_decode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>
// jerror.h after jpeglib.h: the warning codes.
#include <jerror.h>
#include <png.h>

namespace serval::image {
namespace {

std::string Pixels(uint64_t w, uint64_t h) {
  return std::to_string(w) + "x" + std::to_string(h);
}

bool TooLarge(uint64_t w, uint64_t h, const DecodeOptions& o,
              std::string* error) {
  if (w == 0 || h == 0) {
    *error = "image of " + Pixels(w, h) + " pixels is empty";
    return true;
  }
  if (w * h > o.max_pixels) {
    *error = "image of " + Pixels(w, h) + " pixels exceeds the limit of " +
             std::to_string(o.max_pixels) +
             " pixels (parameter max_pixels); refused before decoding";
    return true;
  }
  return false;
}

// ---- JPEG -----------------------------------------------------------------

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegFail(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// A truncated file would otherwise decode with its missing part grey (a
// warning): refused, as PIL does. Other warnings (extraneous bytes) pass.
void JpegWarn(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    auto* e = reinterpret_cast<JpegError*>(cinfo->err);
    std::snprintf(e->message, sizeof(e->message), "truncated JPEG data");
    std::longjmp(e->jump, 1);
  }
}

bool DecodeJpeg(std::string_view data, const DecodeOptions& o, RgbImage* out,
                std::string* error) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = &JpegFail;
  err.mgr.emit_message = &JpegWarn;
  err.message[0] = '\0';
  // Everything that must survive a longjmp lives outside this frame's
  // registers: the buffer is the caller's, the rest is re-read after.
  if (setjmp(err.jump)) {
    *error = std::string("cannot decode JPEG: ") + err.message;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(data.data()),
               static_cast<unsigned long>(data.size()));
  if (o.exif_orientation) jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(&cinfo, TRUE);
  if (TooLarge(cinfo.image_width, cinfo.image_height, o, error)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  if (cinfo.jpeg_color_space == JCS_CMYK ||
      cinfo.jpeg_color_space == JCS_YCCK) {
    *error = "CMYK JPEG images are not supported; convert to RGB";
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  int orientation = 1;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_APP0 + 1) {
      orientation = ExifOrientation(std::string_view(
          reinterpret_cast<const char*>(m->data), m->data_length));
    }
  }
  cinfo.out_color_space = JCS_RGB;
  // DCT-domain down-scaling: the largest reduction that keeps the image at
  // least the minimum size (the minimum applies after orientation).
  if (o.min_width > 0 && o.min_height > 0) {
    const bool swap = orientation >= 5;
    const unsigned need_w = swap ? o.min_height : o.min_width;
    const unsigned need_h = swap ? o.min_width : o.min_height;
    for (unsigned denom = 8; denom >= 2; denom /= 2) {
      if (cinfo.image_width / denom >= need_w &&
          cinfo.image_height / denom >= need_h) {
        cinfo.scale_num = 1;
        cinfo.scale_denom = denom;
        break;
      }
    }
  }
  jpeg_start_decompress(&cinfo);
  out->width = static_cast<int>(cinfo.output_width);
  out->height = static_cast<int>(cinfo.output_height);
  out->pixels.resize(static_cast<size_t>(out->width) * out->height * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->pixels.data() +
                   static_cast<size_t>(cinfo.output_scanline) * out->width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (orientation != 1) ApplyOrientation(orientation, out);
  return true;
}

// ---- PNG ------------------------------------------------------------------

struct PngSource {
  std::string_view data;
  size_t pos = 0;
  std::string message;
};

void PngRead(png_structp png, png_bytep out, png_size_t size) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (src->data.size() - src->pos < size) {
    src->message = "truncated PNG data";
    png_longjmp(png, 1);
  }
  std::memcpy(out, src->data.data() + src->pos, size);
  src->pos += size;
}

void PngFail(png_structp png, png_const_charp message) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  if (src->message.empty()) src->message = message;
  png_longjmp(png, 1);
}

void PngWarn(png_structp, png_const_charp) {}

bool DecodePng(std::string_view data, const DecodeOptions& o, RgbImage* out,
               std::string* error) {
  PngSource src{data};
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, &PngFail, &PngWarn);
  if (png == nullptr) {
    *error = "out of memory decoding PNG";
    return false;
  }
  png_infop info = png_create_info_struct(png);
  std::vector<png_bytep> rows;
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    *error = "cannot decode PNG: " +
             (src.message.empty() ? std::string("corrupt data") : src.message);
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &src, &PngRead);
  // The header's own limits (libpng refuses absurd sizes too).
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info);
  const png_uint_32 h = png_get_image_height(png, info);
  if (TooLarge(w, h, o, error)) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  // What PIL's convert("RGB") gives: 8 bits (16-bit samples keep their
  // high byte), palette and grey expanded, alpha dropped (not composited).
  png_set_strip_16(png);
  png_set_expand(png);
  png_set_gray_to_rgb(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<png_size_t>(w) * 3) {
    src.message = "unexpected PNG row layout";
    png_longjmp(png, 1);
  }
  out->width = static_cast<int>(w);
  out->height = static_cast<int>(h);
  out->pixels.resize(static_cast<size_t>(w) * h * 3);
  rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y) {
    rows[y] = out->pixels.data() + static_cast<size_t>(y) * w * 3;
  }
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

uint32_t Read(const char* p, int bytes, bool little) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    const uint32_t b =
        static_cast<unsigned char>(p[little ? i : bytes - 1 - i]);
    v |= b << (8 * i);
  }
  return v;
}

}  // namespace

int ExifOrientation(std::string_view app1) {
  if (app1.size() < 14 ||
      app1.substr(0, 6) != std::string_view("Exif\0\0", 6)) {
    return 1;
  }
  const std::string_view tiff = app1.substr(6);
  bool little;
  if (tiff.substr(0, 2) == "II") {
    little = true;
  } else if (tiff.substr(0, 2) == "MM") {
    little = false;
  } else {
    return 1;
  }
  const uint32_t ifd = Read(tiff.data() + 4, 4, little);
  if (ifd + 2 > tiff.size()) return 1;
  const uint32_t entries = Read(tiff.data() + ifd, 2, little);
  for (uint32_t i = 0; i < entries; ++i) {
    const size_t at = ifd + 2 + static_cast<size_t>(i) * 12;
    if (at + 12 > tiff.size()) return 1;
    if (Read(tiff.data() + at, 2, little) != 0x0112) continue;
    const uint32_t value = Read(tiff.data() + at + 8, 2, little);
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

void ApplyOrientation(int o, RgbImage* image) {
  if (o <= 1 || o > 8) return;
  const int w = image->width, h = image->height;
  const bool swap = o >= 5;
  const int ow = swap ? h : w, oh = swap ? w : h;
  std::vector<uint8_t> out(image->pixels.size());
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      // Source pixel of output (x, y) for each EXIF orientation.
      int sx = x, sy = y;
      switch (o) {
        case 2:
          sx = w - 1 - x;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        case 8:
          sx = w - 1 - y;
          sy = x;
          break;
      }
      const uint8_t* s = &image->pixels[(static_cast<size_t>(sy) * w + sx) * 3];
      uint8_t* d = &out[(static_cast<size_t>(y) * ow + x) * 3];
      d[0] = s[0];
      d[1] = s[1];
      d[2] = s[2];
    }
  }
  image->pixels.swap(out);
  image->width = ow;
  image->height = oh;
}

bool Decode(std::string_view data, const DecodeOptions& options, RgbImage* out,
            std::string* error) {
  if (data.size() >= 3 && static_cast<unsigned char>(data[0]) == 0xFF &&
      static_cast<unsigned char>(data[1]) == 0xD8 &&
      static_cast<unsigned char>(data[2]) == 0xFF) {
    return DecodeJpeg(data, options, out, error);
  }
  if (data.size() >= 8 &&
      std::memcmp(data.data(), "\x89PNG\r\n\x1a\n", 8) == 0) {
    return DecodePng(data, options, out, error);
  }
  if (data.empty()) {
    *error = "empty input: expected the bytes of a JPEG or PNG image";
  } else if (data.substr(0, 3) == "GIF" || data.substr(0, 2) == "BM" ||
             (data.size() >= 12 && data.substr(8, 4) == "WEBP")) {
    *error = "unsupported image format; expected JPEG or PNG";
  } else {
    *error = "not a JPEG or PNG image";
  }
  return false;
}

}  // namespace serval::image
