#!/usr/bin/python3
"""Photos in, labels out, on this machine in one run: serval's image
pipeline against the set-ups it replaces.

  serval_pipeline    the client posts the JPEG (binary BYTES tensor) to
                     <model>_pipeline and asks for the top 5 labels: decode,
                     pre-processing and the model all run in serval
  client_preprocess  the client decodes with PIL and pre-processes with
                     torchvision (under its GIL), then posts the FP32
                     tensor to <model>_onnx and asks for the top 5
  fastapi_wN         FastAPI + uvicorn with N workers doing PIL +
                     torchvision + torch in the handler (the seeds' set-up)

for resnet50 and mobilenet_v3_small (random weights), closed loop at 1, 8
and 32 requests in flight (Python client threads, one connection each, the
photos of examples/images cycled). Also: resnet50_onnx offline at batch 1
and 8 (serval_offline_bench), and pre-processing alone with 1 and 2 image
instances. Appends a report to bench/results/<date>-image-pipeline.md.

  /usr/bin/python3 bench/image_pipeline.py [--seconds 8] [--models resnet50,mobilenet]
"""

import argparse
import datetime
import glob
import http.client
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples", "models")
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, what, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited before it was ready")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/v2/health/ready")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{what} not ready after {timeout}s")


def binary_request(name, datatype, shape, payload, output, k=5):
    header = json.dumps({
        "inputs": [{"name": name, "datatype": datatype, "shape": shape,
                    "parameters": {"binary_data_size": len(payload)}}],
        "outputs": [{"name": output, "parameters": {"classification": k}}],
    }).encode()
    return header + payload, len(header)


class Client:
    """Builds one request per photo for a mode."""

    def __init__(self, mode, model, port, photos):
        self.mode, self.model, self.port, self.photos = mode, model, port, photos
        if mode == "client_preprocess":
            from torchvision import transforms
            self.transform = transforms.Compose([
                transforms.Resize(256), transforms.CenterCrop(224),
                transforms.ToTensor(), transforms.Normalize(MEAN, STD)])

    def request(self, photo):
        """(path, body, headers)."""
        if self.mode == "serval_pipeline":
            body, n = binary_request("IMAGE", "BYTES", [1, 1],
                                     struct.pack("<I", len(photo)) + photo,
                                     "SCORES")
            return (f"/v2/models/{self.model}_pipeline/infer", body,
                    {"Inference-Header-Content-Length": str(n)})
        if self.mode == "client_preprocess":
            from PIL import Image
            x = self.transform(Image.open(io.BytesIO(photo)).convert("RGB"))
            body, n = binary_request("input", "FP32", [1, 3, 224, 224],
                                     x.numpy().tobytes(), "output")
            return (f"/v2/models/{self.model}_onnx/infer", body,
                    {"Inference-Header-Content-Length": str(n)})
        return "/classify", photo, {"Content-Type": "image/jpeg"}


def measure(client, concurrency, seconds, warmup=2.0):
    """(images/s, p50 ms, p99 ms, request bytes, errors)."""
    stop_at = time.time() + warmup + seconds
    start_at = time.time() + warmup
    lat, sizes, errors = [], [], []
    lock = threading.Lock()

    def worker(i):
        conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=120)
        n = i
        while True:
            t0 = time.time()
            if t0 >= stop_at:
                break
            path, body, headers = client.request(
                client.photos[n % len(client.photos)])
            n += 1
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            t1 = time.time()
            if t0 >= start_at and t1 <= stop_at:
                with lock:
                    if resp.status == 200:
                        lat.append(t1 - t0)
                        sizes.append(len(body))
                    else:
                        errors.append(data[:200])
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,))
               for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()
    if not lat:
        return 0.0, 0.0, 0.0, 0, len(errors)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
    return (len(lat) / seconds, pct(0.5), pct(0.99),
            sum(sizes) // len(sizes), len(errors))


def start_serval(build, repo):
    port = free_port()
    log = open(os.path.join(repo, "..", "serval.log"), "w")
    proc = subprocess.Popen(
        [os.path.join(build, "serval"), "serve", "--model-repository", repo,
         "--http-port", str(port), "--grpc-port", str(free_port()),
         "--metrics-port", str(free_port()), "--log-level", "warn"],
        stdout=log, stderr=subprocess.STDOUT)
    wait_ready(port, proc, "serval")
    return proc, port


def start_fastapi(model, workers):
    port = free_port()
    env = dict(os.environ)
    env["PEER_IMAGE_MODEL"] = (
        os.path.join(EXAMPLES, "resnet50_torch", "1", "model.pt")
        if model == "resnet50" else "mobilenet_v3_small")
    env["PEER_TORCH_THREADS"] = str(max(1, os.cpu_count() // workers))
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-m", "uvicorn", "fastapi_image_app:app",
         "--host", "127.0.0.1", "--port", str(port), "--workers",
         str(workers), "--log-level", "warning", "--no-access-log"],
        cwd=os.path.join(ROOT, "bench", "peers"), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port, proc, f"fastapi ({workers} workers)")
    return proc, port


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def offline(build, seconds):
    bench = os.path.join(build, "bench", "offline", "serval_offline_bench")
    out = subprocess.run(
        [bench, "--plugin", os.path.join(build, "backends", "onnxruntime",
                                         "libserval_onnxruntime.so"),
         "--model-dir", os.path.join(EXAMPLES, "resnet50_onnx"),
         "--batch", "1,8", "--seconds", str(seconds)],
        capture_output=True, text=True)
    best = 0.0
    for line in out.stdout.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 5 and cells[2] == "resnet50_onnx":
            best = max(best, float(cells[4]))
    return best


def build_repo(work):
    repo = os.path.join(work, "repo")
    os.makedirs(repo)
    for m in ("imagenet_preprocess", "resnet50_onnx", "resnet50_pipeline",
              "mobilenet_onnx", "mobilenet_pipeline"):
        os.symlink(os.path.join(EXAMPLES, m), os.path.join(repo, m))
    with open(os.path.join(EXAMPLES, "imagenet_preprocess", "config.pbtxt")) as f:
        config = f.read()
    for n in (1, 2):
        name = f"preprocess_{n}"
        os.makedirs(os.path.join(repo, name, "1"))
        with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
            f.write(config.replace('"imagenet_preprocess"', f'"{name}"')
                    .replace("count: 2", f"count: {n}"))
    return repo


class PreprocessClient(Client):
    def __init__(self, model, port, photos):
        super().__init__("serval_pipeline", model, port, photos)

    def request(self, photo):
        header = json.dumps({
            "inputs": [{"name": "IMAGE", "datatype": "BYTES", "shape": [1, 1],
                        "parameters": {"binary_data_size": len(photo) + 4}}],
            "outputs": [{"name": "TENSOR",
                         "parameters": {"binary_data": True}}]}).encode()
        return (f"/v2/models/{self.model}/infer",
                header + struct.pack("<I", len(photo)) + photo,
                {"Inference-Header-Content-Length": str(len(header))})


def top1_agreement(port, count=50):
    """resnet50's top-1 on the pipeline's tensor (JPEG in) and on
    torchvision's tensor for the same JPEG: how many of `count` agree."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import image_test
    pipeline = Client("serval_pipeline", "resnet50", port, [])
    client = Client("client_preprocess", "resnet50", port, [])
    agree = 0
    images = image_test.generated_images()[:count]
    for _, data in images:
        tops = []
        for c in (pipeline, client):
            path, body, headers = c.request(data)
            body = body.replace(b'"classification": 5', b'"classification": 1')
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", path, body=body, headers=headers)
            reply = json.loads(conn.getresponse().read())
            conn.close()
            tops.append(reply["outputs"][0]["data"][0].split(":")[1])
        agree += tops[0] == tops[1]
    return agree, len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--models", default="resnet50,mobilenet")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    photos = [open(p, "rb").read() for p in
              sorted(glob.glob(os.path.join(ROOT, "examples", "images", "*.jpg")))]
    if not photos:
        sys.exit("no photos in examples/images: run scripts/make_repository.sh")
    levels = [int(c) for c in args.concurrency.split(",")]
    load_before = open("/proc/loadavg").read().split()[:3]
    work = tempfile.mkdtemp(prefix="serval-image-bench-")
    rows = []
    try:
        offline_best = offline(args.build, 5)
        serval, port = start_serval(args.build, build_repo(work))
        try:
            agreement = top1_agreement(port)
            pre = {}
            for n in (1, 2):
                pre[n] = measure(PreprocessClient(f"preprocess_{n}", port, photos),
                                 8, args.seconds)
            for model in args.models.split(","):
                for mode in ("serval_pipeline", "client_preprocess"):
                    client = Client(mode, model, port, photos)
                    for c in levels:
                        rows.append((model, mode, c,
                                     *measure(client, c, args.seconds)))
                        print(rows[-1], file=sys.stderr, flush=True)
        finally:
            stop(serval)
        for model in args.models.split(","):
            for workers in (1, 2):
                proc, fport = start_fastapi(model, workers)
                try:
                    client = Client("fastapi", model, fport, photos)
                    for c in levels:
                        rows.append((model, f"fastapi_w{workers}", c,
                                     *measure(client, c, args.seconds)))
                        print(rows[-1], file=sys.stderr, flush=True)
                finally:
                    stop(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = open("/proc/loadavg").read().split()[:3]
    report(args, rows, pre, offline_best, load_before, load_after, photos,
           agreement)


def report(args, rows, pre, offline_best, load_before, load_after, photos,
           agreement):
    date = datetime.date.today().isoformat()
    path = os.path.join(ROOT, "bench", "results", f"{date}-image-pipeline.md")
    lines = [f"## Run of {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC", "",
             f"`/usr/bin/python3 bench/image_pipeline.py --seconds {args.seconds:g}`; "
             f"load average before {' '.join(load_before)}, after "
             f"{' '.join(load_after)}; photos: examples/images "
             f"({len(photos)} JPEGs, 320x240 to 1920x1280, mean "
             f"{sum(map(len, photos)) // len(photos)} bytes).", "",
             "| model | set-up | in flight | images/s | p50 ms | p99 ms | request bytes | errors |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for model, mode, c, ips, p50, p99, size, errors in rows:
        lines.append(f"| {model} | {mode} | {c} | {ips:.1f} | {p50:.1f} | "
                     f"{p99:.1f} | {size} | {errors} |")
    best = {}
    for model, mode, c, ips, *_ in rows:
        best[(model, mode)] = max(best.get((model, mode), 0), ips)
    lines += ["", "Best images/s of each set-up, and ratios:", ""]
    for model in args.models.split(","):
        s = best.get((model, "serval_pipeline"), 0)
        f = max(best.get((model, "fastapi_w1"), 0), best.get((model, "fastapi_w2"), 0))
        c = best.get((model, "client_preprocess"), 0)
        lines.append(f"- {model}: serval pipeline {s:.1f}, client pre-processing + "
                     f"serval {c:.1f} ({s / c if c else 0:.2f}x), FastAPI best of 1/2 "
                     f"workers {f:.1f} ({s / f if f else 0:.2f}x)")
    if offline_best:
        s = best.get(("resnet50", "serval_pipeline"), 0)
        lines.append(f"- resnet50_onnx offline (no server, no pre-processing), "
                     f"best of batch 1 and 8: {offline_best:.1f} items/s; the "
                     f"pipeline serves {s / offline_best:.2f}x of it")
    lines.append(f"- pre-processing alone (imagenet_preprocess, 8 in flight): "
                 f"1 instance {pre[1][0]:.1f} images/s, 2 instances "
                 f"{pre[2][0]:.1f} ({pre[2][0] / pre[1][0] if pre[1][0] else 0:.2f}x)")
    lines.append(f"- resnet50 top-1 on the pipeline's tensor vs torchvision's, "
                 f"same JPEG: {agreement[0]} of {agreement[1]} agree")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write(f"# Image pipelines ({date})\n\n")
        f.write("\n".join(lines) + "\n\n")
    print("\n".join(lines))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
