"""Loading models from S3 against loading them from disk, in one run.

Starts s3rver (SigV4 checked, tests/integration/s3/s3_server.js) on
loopback, puts examples/models/resnet50_onnx and mlp_onnx in a bucket with
boto3, then times the explicit load API call of resnet50_onnx (about
100 MB): from the local repository, from S3 with an empty cache (cold),
and from S3 again (the content cache: 0 bytes downloaded). Then reloads
mlp_onnx from S3 ten times while two clients send requests and counts the
failed ones. Appends the figures to bench/results/<date>-s3.md.

    /usr/bin/python3 bench/s3_load.py [--runs 3]
"""

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVAL = os.path.join(ROOT, "build", "serval")
BACKENDS = os.path.join(ROOT, "build", "backends")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
_own_args = sys.argv[1:]
sys.argv[1:] = ["--serval", SERVAL, "--backends", BACKENDS]  # for s3_test
import serval_harness  # noqa: E402
import s3_test  # noqa: E402  (its s3rver start-up and seeding)
sys.argv[1:] = _own_args
MODELS = os.path.join(ROOT, "examples", "models")


def timed_load(server, model):
    start = time.monotonic()
    status, _, body = server.request(
        "POST", f"/v2/repository/models/{model}/load", timeout=300)
    elapsed = time.monotonic() - start
    if status != 200:
        raise RuntimeError(f"load failed: {status} {body[:300]}")
    return elapsed


def serve(repo, env=None, cache=None):
    extra = ["--model-control-mode", "explicit"]
    if cache:
        extra += ["--model-cache-directory", cache]
    return serval_harness.Serval(SERVAL, BACKENDS, [repo], extra_args=extra,
                                 env=env, log_level="info")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    s3_test.setUpModule()
    try:
        bucket = "bench-models"
        s3_test.upload_example(bucket, "repo", "resnet50_onnx")
        s3_test.upload_example(bucket, "repo", "mlp_onnx")
        url = f"s3://http://127.0.0.1:{s3_test.PORT}/{bucket}/repo"
        local, cold, warm, downloaded, boto = [], [], [], [], []
        from boto3.s3.transfer import TransferConfig
        for _ in range(args.runs):
            # The peer: boto3's own parallel ranged download of the weights.
            start = time.monotonic()
            s3_test.client().download_file(
                bucket, "repo/resnet50_onnx/1/model.onnx",
                os.path.join(tempfile.mkdtemp(), "model.onnx"),
                Config=TransferConfig(max_concurrency=8,
                                      multipart_chunksize=8 << 20))
            boto.append(time.monotonic() - start)
            with serve(MODELS) as server:
                local.append(timed_load(server, "resnet50_onnx"))
            cache = tempfile.mkdtemp(prefix="serval-bench-cache-")
            with serve(url, s3_test.s3_env(), cache) as server:
                cold.append(timed_load(server, "resnet50_onnx"))
                warm.append(timed_load(server, "resnet50_onnx"))
                downloaded.append(
                    s3_test.downloads(server, "resnet50_onnx")[-1][0])
        # Hot reloads from S3 under load.
        failures, done = [], [0]
        with serve(url, s3_test.s3_env(),
                   tempfile.mkdtemp(prefix="serval-bench-cache-")) as server:
            timed_load(server, "mlp_onnx")
            stop = threading.Event()
            meta = json.loads(server.request("GET", "/v2/models/mlp_onnx")[2])
            inp = meta["inputs"][0]
            shape = [1 if d == -1 else d for d in inp["shape"]]
            n = 1
            for d in shape:
                n *= d
            body = json.dumps({"inputs": [{"name": inp["name"], "shape": shape,
                                           "datatype": inp["datatype"],
                                           "data": [0.5] * n}]})

            def client():
                conn = server.http_connection()
                while not stop.is_set():
                    conn.request("POST", "/v2/models/mlp_onnx/infer", body=body,
                                 headers={"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    resp.read()
                    done[0] += 1
                    if resp.status != 200:
                        failures.append(resp.status)
            threads = [threading.Thread(target=client) for _ in range(2)]
            for t in threads:
                t.start()
            reload_times = [timed_load(server, "mlp_onnx") for _ in range(10)]
            stop.set()
            for t in threads:
                t.join()
    finally:
        s3_test.tearDownModule()

    med = statistics.median
    lines = [
        f"\n## {datetime.datetime.now():%Y-%m-%d %H:%M} s3_load.py "
        f"(runs {args.runs}; load average {os.getloadavg()[0]:.2f})\n",
        "| resnet50_onnx load API call | median s | runs (s) |",
        "|---|---|---|",
        f"| local directory | {med(local):.2f} | {', '.join(f'{x:.2f}' for x in local)} |",
        f"| S3, empty cache | {med(cold):.2f} | {', '.join(f'{x:.2f}' for x in cold)} |",
        f"| S3, unchanged reload | {med(warm):.2f} | {', '.join(f'{x:.2f}' for x in warm)} |",
        f"| (peer) boto3 download_file of the weights alone, 8 threads | {med(boto):.2f} | {', '.join(f'{x:.2f}' for x in boto)} |",
        "",
        f"- S3 cold / local: **{med(cold) / med(local):.2f}x**; "
        f"S3 unchanged reload / local: {med(warm) / med(local):.2f}x",
        f"- S3 cold minus local (serval's download) / boto3's download: "
        f"{(med(cold) - med(local)) / med(boto):.2f}x",
        f"- bytes downloaded by the unchanged reloads: {downloaded}",
        f"- mlp_onnx reloaded from S3 10 times under 2 clients: "
        f"{done[0]} requests, **{len(failures)} failed**; reload median "
        f"{med(reload_times) * 1000:.0f} ms",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = os.path.join(ROOT, "bench", "results",
                       f"{datetime.date.today():%Y-%m-%d}-s3.md")
    new = not os.path.exists(out)
    with open(out, "a") as f:
        if new:
            f.write("# Model repositories in S3 (bench/s3_load.py)\n\n"
                    "s3rver (Node.js, SigV4 checked) on loopback; serval's "
                    "explicit load API call timed end to end (list, "
                    "download, load, warm-up).\n")
        f.write(text)


if __name__ == "__main__":
    main()
