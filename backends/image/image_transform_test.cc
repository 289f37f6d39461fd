#include "image_transform.h"

#include <zlib.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image_decode.h"

namespace serval::image {
namespace {

using ::testing::HasSubstr;

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
          static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string Chunk(const std::string& type_and_data) {
  const uint32_t crc =
      crc32(0, reinterpret_cast<const Bytef*>(type_and_data.data()),
            type_and_data.size());
  return Be32(type_and_data.size() - 4) + type_and_data + Be32(crc);
}

// A PNG whose IHDR claims `w` x `h`, with an empty IDAT: what a
// decompression bomb looks like up to its pixel data.
std::string PngHeader(uint32_t w, uint32_t h) {
  return std::string("\x89PNG\r\n\x1a\n", 8) +
         Chunk("IHDR" + Be32(w) + Be32(h) + std::string("\x08\x02\0\0\0", 5)) +
         Chunk("IDAT") + Chunk("IEND");
}

RgbImage Gradient(int w, int h) {
  RgbImage img{w, h, {}};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      img.pixels.push_back(static_cast<uint8_t>(x));
      img.pixels.push_back(static_cast<uint8_t>(y));
      img.pixels.push_back(static_cast<uint8_t>(x + y));
    }
  }
  return img;
}

TEST(ImageDecodeTest, RefusesWhatIsNotAnImage) {
  RgbImage out;
  std::string error;
  DecodeOptions o;
  EXPECT_FALSE(Decode("", o, &out, &error));
  EXPECT_THAT(error, HasSubstr("empty input"));
  EXPECT_FALSE(Decode("GIF89a....", o, &out, &error));
  EXPECT_THAT(error, HasSubstr("unsupported image format"));
  EXPECT_FALSE(Decode("hello world", o, &out, &error));
  EXPECT_THAT(error, HasSubstr("not a JPEG or PNG image"));
  EXPECT_FALSE(
      Decode(std::string("\xFF\xD8\xFF\xE0\0\x10JFIF", 10), o, &out, &error));
  EXPECT_THAT(error, HasSubstr("cannot decode JPEG"));
}

TEST(ImageDecodeTest, ADecompressionBombIsRefusedFromItsHeader) {
  RgbImage out;
  std::string error;
  DecodeOptions o;
  EXPECT_FALSE(Decode(PngHeader(100000, 100000), o, &out, &error));
  EXPECT_THAT(error, HasSubstr("image of 100000x100000 pixels exceeds the "
                               "limit of 40000000 pixels"));
  EXPECT_TRUE(out.pixels.empty());
  // Within the limit, the missing data is what fails.
  EXPECT_FALSE(Decode(PngHeader(10, 10), o, &out, &error));
  EXPECT_THAT(error, HasSubstr("cannot decode PNG"));
}

TEST(ImageDecodeTest, ExifOrientationIsReadInBothByteOrders) {
  // "Exif\0\0", TIFF header, IFD0 with one entry: 0x0112 SHORT 1 = 6.
  std::string le = std::string("Exif\0\0II*\0\x08\0\0\0\x01\0", 16) +
                   std::string("\x12\x01\x03\0\x01\0\0\0\x06\0\0\0", 12) +
                   std::string(4, '\0');
  EXPECT_EQ(ExifOrientation(le), 6);
  std::string be = std::string("Exif\0\0MM\0*\0\0\0\x08\0\x01", 16) +
                   std::string("\x01\x12\0\x03\0\0\0\x01\0\x03\0\0", 12) +
                   std::string(4, '\0');
  EXPECT_EQ(ExifOrientation(be), 3);
  EXPECT_EQ(ExifOrientation("Exif"), 1);
  EXPECT_EQ(ExifOrientation(std::string("Exif\0\0XX", 8) + std::string(20, 0)),
            1);
}

TEST(ImageDecodeTest, OrientationsTurnTheImageUpright) {
  RgbImage img = Gradient(3, 2);  // pixel (x, y) has R = x, G = y
  RgbImage six = img;
  ApplyOrientation(6, &six);  // rotate 90 degrees clockwise
  EXPECT_EQ(six.width, 2);
  EXPECT_EQ(six.height, 3);
  // Top-left of the result is the original bottom-left (x 0, y 1).
  EXPECT_EQ(six.pixels[0], 0);
  EXPECT_EQ(six.pixels[1], 1);
  RgbImage three = img;
  ApplyOrientation(3, &three);  // 180 degrees
  EXPECT_EQ(three.pixels[0], 2);
  EXPECT_EQ(three.pixels[1], 1);
}

TEST(ImageTransformTest, ShorterSideTruncatesTheLongerLikeTorchvision) {
  int w, h;
  ShorterSideTo(256, 500, 375, &w, &h);
  EXPECT_EQ(w, 341);  // int(256 * 500 / 375) = int(341.33)
  EXPECT_EQ(h, 256);
  ShorterSideTo(256, 300, 301, &w, &h);
  EXPECT_EQ(w, 256);
  EXPECT_EQ(h, 256);  // int(256.85)
}

TEST(ImageTransformTest, CenterCropRoundsHalfToEven) {
  RgbImage img = Gradient(7, 4);
  // (7 - 2) / 2 = 2.5 -> 2; (4 - 1) / 2 = 1.5 -> 2.
  RgbImage c = CenterCrop(img, 2, 1);
  EXPECT_EQ(c.pixels[0], 2);  // x
  EXPECT_EQ(c.pixels[1], 2);  // y
  // Larger than the image: zero padding around it.
  RgbImage pad = CenterCrop(Gradient(1, 1), 3, 3);
  EXPECT_EQ(pad.pixels[0], 0);
  EXPECT_EQ(pad.pixels[4 * 3 + 2], 0);
}

TEST(ImageTransformTest, ResizeKeepsAFlatImageFlatAndAveragesDown) {
  RgbImage flat{8, 8, std::vector<uint8_t>(8 * 8 * 3, 77)};
  RgbImage r = ResizeBilinear(flat, 3, 5);
  ASSERT_EQ(r.pixels.size(), 3u * 5 * 3);
  for (uint8_t v : r.pixels) EXPECT_EQ(v, 77);
  // Two columns 0 and 200 averaged into one: 100.
  RgbImage two{2, 1, {0, 0, 0, 200, 200, 200}};
  RgbImage one = ResizeBilinear(two, 1, 1);
  EXPECT_EQ(one.pixels[0], 100);
}

TEST(ImageTransformTest, TensorsInEveryLayoutAndType) {
  RgbImage img{1, 2, {10, 20, 30, 40, 50, 60}};
  TensorOptions o;
  o.mean = {0.5f, 0.5f, 0.5f};
  o.std = {0.5f, 0.25f, 0.5f};
  float nchw[6];
  WriteTensor(img, o, nchw);
  EXPECT_FLOAT_EQ(nchw[0], (10 / 255.0f - 0.5f) / 0.5f);   // R of pixel 0
  EXPECT_FLOAT_EQ(nchw[1], (40 / 255.0f - 0.5f) / 0.5f);   // R of pixel 1
  EXPECT_FLOAT_EQ(nchw[2], (20 / 255.0f - 0.5f) / 0.25f);  // G of pixel 0
  o.layout = Layout::kNhwc;
  o.bgr = true;
  float nhwc[6];
  WriteTensor(img, o, nhwc);
  EXPECT_FLOAT_EQ(nhwc[0], (30 / 255.0f - 0.5f) / 0.5f);  // B first
  o.type = OutputType::kUint8;
  uint8_t raw[6];
  WriteTensor(img, o, raw);
  EXPECT_EQ(raw[0], 30);
  EXPECT_EQ(raw[2], 10);
}

TEST(ImageTransformTest, HalfRoundsToNearestEven) {
  EXPECT_EQ(ToHalf(0.0f), 0x0000);
  EXPECT_EQ(ToHalf(1.0f), 0x3c00);
  EXPECT_EQ(ToHalf(-2.0f), 0xc000);
  EXPECT_EQ(ToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(ToHalf(1e6f), 0x7c00);
  EXPECT_EQ(ToHalf(1.0f + 1.0f / 2048), 0x3c00);  // tie: to even
  EXPECT_EQ(ToHalf(5.96046448e-08f), 0x0001);     // smallest subnormal
}

}  // namespace
}  // namespace serval::image
