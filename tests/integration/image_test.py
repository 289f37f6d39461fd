"""The image backend against torchvision's PIL pipeline, end to end.

Starts the real `serval serve` with an image model configured as
torchvision's ImageNet pre-processing (Resize(256), CenterCrop(224),
ToTensor, Normalize), sends generated JPEGs and PNGs of varied sizes, aspect
ratios and colour modes as BYTES tensors, and compares each answer with
torchvision's tensor for the same bytes: mean and max absolute difference
in normalised units. Then hostile inputs: not an image, an unsupported
format, a truncated JPEG, a decompression bomb, and a bad image batched with
good ones (only its own request fails). Needs Debian's numpy, PIL and
torchvision.

Run: /usr/bin/python3 tests/integration/image_test.py \
       --serval build/serval --backends build/backends
"""

import io
import json
import os
import struct
import sys
import threading
import unittest
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ARGS = None
SERVER = None
REPO = None
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
IMAGES = 50


def image_config(name, extra_parameters="", batching=""):
    return "\n".join([
        f'name: "{name}"', 'backend: "image"', "max_batch_size: 8",
        'input [ { name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] } ]',
        'output [ { name: "TENSOR" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]',
        "instance_group [ { count: 2 kind: KIND_CPU } ]",
        'parameters { key: "resize" value { string_value: "256" } }',
        'parameters { key: "mean" value { string_value: "%s" } }'
        % ",".join(map(str, MEAN)),
        'parameters { key: "std" value { string_value: "%s" } }'
        % ",".join(map(str, STD)),
        extra_parameters, batching, ""])


def infer_image(server, model, data):
    """(status, error or None, FP32 array [3,224,224] or None)."""
    header = json.dumps({
        "inputs": [{"name": "IMAGE", "datatype": "BYTES", "shape": [1, 1],
                    "parameters": {"binary_data_size": len(data) + 4}}],
        "outputs": [{"name": "TENSOR", "parameters": {"binary_data": True}}],
    }).encode()
    body = header + struct.pack("<I", len(data)) + data
    status, headers, reply = server.request(
        "POST", f"/v2/models/{model}/infer", body=body,
        headers={"Inference-Header-Content-Length": str(len(header)),
                 "Content-Type": "application/octet-stream"})
    if status != 200:
        return status, json.loads(reply)["error"], None
    n = int(headers["inference-header-content-length"])
    return status, None, np.frombuffer(reply[n:], dtype=np.float32).reshape(
        3, 224, 224)


def generated_images():
    """(name, encoded bytes, PIL image as decoded) of varied images."""
    from PIL import Image
    rng = np.random.default_rng(14)
    out = []
    for i in range(IMAGES):
        w, h = (int(v) for v in rng.integers(60, 1100, size=2))
        if i % 10 == 0:
            w, h = int(rng.integers(900, 1600)), int(rng.integers(120, 260))
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack([(xx * 255 // max(w - 1, 1)),
                         (yy * 255 // max(h - 1, 1)),
                         ((xx + yy) * 7) % 256], axis=-1).astype(np.float64)
        for _ in range(6):  # sharp-edged rectangles
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            base[y0:y0 + int(rng.integers(5, h)), x0:x0 + int(rng.integers(5, w))] = \
                rng.integers(0, 256, size=3)
        base += rng.normal(0, 12, size=base.shape)
        pixels = np.clip(base, 0, 255).astype(np.uint8)
        img = Image.fromarray(pixels, "RGB")
        buf = io.BytesIO()
        kind = i % 5
        if kind in (0, 1, 2):
            img.save(buf, "JPEG", quality=int(rng.integers(70, 96)))
            name = f"{i}.jpg"
        elif kind == 3:
            img.convert("RGBA").save(buf, "PNG")
            name = f"{i}-rgba.png"
        else:
            img.convert("L" if i % 2 else "P").save(buf, "PNG")
            name = f"{i}-{'L' if i % 2 else 'P'}.png"
        out.append((name, buf.getvalue()))
    return out


def reference(data):
    from PIL import Image
    from torchvision import transforms
    t = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                            transforms.ToTensor(),
                            transforms.Normalize(MEAN, STD)])
    return t(Image.open(io.BytesIO(data)).convert("RGB")).numpy()


def png_bomb(w, h):
    def chunk(kind, data=b""):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND"))


def setUpModule():
    global SERVER, REPO
    try:
        import PIL  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        raise unittest.SkipTest(f"needs Debian's PIL and torchvision: {e}")
    if not os.path.exists(os.path.join(ARGS.backends, "image",
                                       "libserval_image.so")):
        raise unittest.SkipTest("the image backend was not built "
                                "(libjpeg or libpng missing)")
    REPO = serval_harness.ModelRepository()
    REPO.add_model("preprocess", image_config("preprocess"))
    REPO.add_model("batched", image_config(
        "batched", batching="dynamic_batching { max_queue_delay_microseconds: "
                            "200000 }"))
    REPO.add_model("upright", image_config("upright"))
    SERVER = serval_harness.Serval(ARGS.serval, ARGS.backends, [REPO.path])
    SERVER.start()


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()
    if REPO is not None:
        REPO.close()


class Parity(unittest.TestCase):
    def test_matches_torchvision_on_generated_images(self):
        diffs = []
        for name, data in generated_images():
            status, error, tensor = infer_image(SERVER, "preprocess", data)
            self.assertEqual(status, 200, f"{name}: {error}")
            d = np.abs(tensor - reference(data))
            diffs.append((d.mean(), d.max(), name))
        mean = float(np.mean([d[0] for d in diffs]))
        worst = max(diffs, key=lambda d: d[1])
        print(f"\nimage parity over {len(diffs)} images: mean abs diff "
              f"{mean:.5f}, max {worst[1]:.5f} ({worst[2]})", file=sys.stderr)
        self.assertLessEqual(mean, 0.01)
        self.assertLessEqual(worst[1], 0.05)

    def test_exif_orientation_is_applied(self):
        from PIL import Image, ImageOps
        img = Image.fromarray(np.tile(np.arange(400, dtype=np.uint8) % 256,
                                      (300, 1))[:, :, None].repeat(3, 2), "RGB")
        exif = Image.Exif()
        exif[0x0112] = 6
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=95, exif=exif)
        data = buf.getvalue()
        status, error, tensor = infer_image(SERVER, "upright", data)
        self.assertEqual(status, 200, error)
        upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        out = io.BytesIO()
        upright.save(out, "PNG")
        self.assertLess(np.abs(tensor - reference(out.getvalue())).max(), 0.05)


class HostileInput(unittest.TestCase):
    def assertRefused(self, data, text):
        status, error, _ = infer_image(SERVER, "preprocess", data)
        self.assertEqual(status, 400, error)
        self.assertIn("input 'IMAGE'", error)
        self.assertIn(text, error)

    def test_each_bad_image_is_a_400_that_says_why(self):
        jpeg = generated_images()[0][1]
        self.assertRefused(b"", "empty input")
        self.assertRefused(b"hello, not an image", "not a JPEG or PNG image")
        self.assertRefused(b"GIF89a" + b"\0" * 64, "unsupported image format")
        self.assertRefused(jpeg[:len(jpeg) // 2], "truncated JPEG data")
        self.assertRefused(png_bomb(60000, 60000),
                           "image of 60000x60000 pixels exceeds the limit")
        from PIL import Image
        thin = io.BytesIO()
        Image.new("RGB", (1, 200000)).save(thin, "PNG")
        self.assertRefused(thin.getvalue(), "would resize to 256x51200000, "
                                            "more than max_pixels")
        self.assertEqual(SERVER.request("GET", "/v2/health/live")[0], 200)

    def test_a_bad_image_fails_only_its_own_request_in_a_batch(self):
        good = generated_images()[1][1]
        results = {}

        def send(key, data):
            results[key] = infer_image(SERVER, "batched", data)[:2]

        threads = [threading.Thread(target=send, args=(k, d)) for k, d in
                   (("good1", good), ("bad", b"junk"), ("good2", good))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results["good1"][0], 200, results)
        self.assertEqual(results["good2"][0], 200, results)
        self.assertEqual(results["bad"][0], 400, results)
        status, doc = None, None
        status, _, body = SERVER.request("GET", "/v2/models/batched/stats")
        stats = json.loads(body)["model_stats"][0]
        # The three arrived within the queue delay: fewer executions than
        # requests shows they were batched together.
        self.assertLess(stats["execution_count"], 3, stats)


if __name__ == "__main__":
    ARGS = serval_harness.parse_args()
    sys.exit(serval_harness.unittest_main(lambda: [SERVER]))
