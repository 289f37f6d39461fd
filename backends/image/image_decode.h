// Decodes JPEG and PNG bytes to 8-bit RGB, refusing what a server must not
// try: bytes that are no image, formats other than JPEG and PNG, truncated
// or corrupt data, and images whose pixel count exceeds a limit, refused
// from the header before any pixel buffer is allocated (a decompression
// bomb costs nothing). JPEG EXIF orientation is applied. Neither library
// may exit() or print: their errors come back as messages. Thread-safe (no
// shared state).
#ifndef SERVAL_BACKENDS_IMAGE_IMAGE_DECODE_H_
#define SERVAL_BACKENDS_IMAGE_IMAGE_DECODE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace serval::image {

// Interleaved 8-bit RGB, row-major.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3
};

struct DecodeOptions {
  // Width x height at most, checked against the header.
  uint64_t max_pixels = 40'000'000;
  // Apply the EXIF orientation tag (JPEG): the pixels come out upright.
  bool exif_orientation = true;
  // JPEG only: libjpeg may decode at 1/2, 1/4 or 1/8 of the size (in the
  // DCT domain, much cheaper) as long as both sides stay >= these; 0 = off.
  int min_width = 0;
  int min_height = 0;
};

// Decodes `data`; on failure returns false and sets `error` to a message
// that says why ("not a JPEG or PNG image", "truncated JPEG data", "image
// of 100000x100000 pixels exceeds the limit of ...").
bool Decode(std::string_view data, const DecodeOptions& options, RgbImage* out,
            std::string* error);

// The EXIF orientation (1-8) in a JPEG APP1 payload ("Exif\0\0" + TIFF);
// 1 when absent or unreadable. Exposed for tests.
int ExifOrientation(std::string_view app1);

// Rotates/flips `image` so that orientation `o` (EXIF 1-8) becomes 1.
void ApplyOrientation(int o, RgbImage* image);

}  // namespace serval::image

#endif  // SERVAL_BACKENDS_IMAGE_IMAGE_DECODE_H_
