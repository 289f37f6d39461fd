#!/usr/bin/python3
"""Python models on this machine, in one run:

  overhead  p50 and p99 at concurrency 1 (`serval perf`, HTTP binary) of a
            Python identity model against the C++ identity backend, for a
            16 B and a 1 MB FP32 tensor: what the stub round trip adds.
  scaling   a CPU-bound numpy function (bench/python_models/numpy_work.py,
            interpreter-bound, BLAS single-threaded) as a Python model with
            1 and 2 instances (and 2 with dynamic batching), and behind
            FastAPI with gunicorn and 1 and 2 uvicorn workers, closed loop at
            8 requests in flight (HTTP JSON).

Appends a report to bench/results/<date>-python-models.md.

  /usr/bin/python3 bench/python_models.py [--seconds 5]
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "bench", "python_models")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import serval_harness  # noqa: E402

SIZES = {"16B": 4, "1MB": 262144}
USERS = 8


def model(repo, name, backend, elements, count=1, source=None, batch=0):
    lines = [f'name: "{name}"', f'backend: "{backend}"',
             f"max_batch_size: {batch}"] + (["dynamic_batching { }"] if batch else []) + [
             f'input [ {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ {elements} ] }} ]',
             f'output [ {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ {elements} ] }} ]',
             f"instance_group [ {{ count: {count} kind: KIND_CPU }} ]"]
    os.makedirs(os.path.join(repo, name, "1"))
    with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if source:
        shutil.copy(os.path.join(HERE, source), os.path.join(repo, name, "1", "model.py"))


def perf(build, port, model_name, concurrency, seconds, encoding, out,
         server_stats=True):
    cmd = [os.path.join(build, "serval"), "perf", "-m", model_name, "-u",
           f"127.0.0.1:{port}", "--concurrency-range", str(concurrency),
           "--encoding", encoding, "-p", str(int(seconds * 1000)), "-r", "3",
           "--no-progress", "--json", out]
    if not server_stats:
        cmd.append("--no-server-stats")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["steps"][0]


def start_fastapi(workers, env):
    # gunicorn with uvicorn workers, the usual production set-up; uvicorn's
    # own --workers stalls each response about 40 ms here (delayed ACKs: its
    # worker sockets lack TCP_NODELAY), which would not be a fair peer.
    port = serval_harness.free_port()
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-m", "gunicorn", "-k", "uvicorn.workers.UvicornWorker",
         "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "fastapi_numpy_app:app"],
        cwd=os.path.join(ROOT, "bench", "peers"), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    import http.client
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/v2/health/ready")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("uvicorn did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="serval-pybench-")
    repo = os.path.join(work, "repo")
    os.makedirs(repo)
    for label, elements in SIZES.items():
        model(repo, f"py_identity_{label}", "python", elements, source="identity_model.py")
        model(repo, f"cpp_identity_{label}", "identity", elements)
    model(repo, "py_work_1", "python", 64, 1, "work_model.py")
    model(repo, "py_work_2", "python", 64, 2, "work_model.py")
    model(repo, "py_work_2_batched", "python", 64, 2, "work_model.py", batch=8)
    env = dict(os.environ, SERVAL_BENCH_PYTHON_MODELS=HERE, OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1")
    load_before = open("/proc/loadavg").read().split()[:3]
    out = os.path.join(work, "perf.json")
    lines = [f"# Python models ({datetime.date.today()})", "",
             f"`bench/python_models.py --seconds {args.seconds:g}`; load average "
             f"before {' '.join(load_before)}; 2 cores shared by server and client.", "",
             "## What the stub adds (concurrency 1, HTTP binary)", "",
             "| tensor | C++ identity p50 / p99 ms | Python identity p50 / p99 ms | added p50 / p99 ms |",
             "| --- | --- | --- | --- |"]
    server = serval_harness.Serval(os.path.join(args.build, "serval"),
                                   os.path.join(args.build, "backends"), [repo],
                                   log_level="warn", env=env)
    server.start()
    try:
        for label in SIZES:
            c = perf(args.build, server.http_port, f"cpp_identity_{label}", 1,
                     args.seconds, "binary", out)
            p = perf(args.build, server.http_port, f"py_identity_{label}", 1,
                     args.seconds, "binary", out)
            cl, pl = c["latency_us"], p["latency_us"]
            lines.append(
                f"| {label} | {cl['p50'] / 1000:.3f} / {cl['p99'] / 1000:.3f} | "
                f"{pl['p50'] / 1000:.3f} / {pl['p99'] / 1000:.3f} | "
                f"{(pl['p50'] - cl['p50']) / 1000:.3f} / {(pl['p99'] - cl['p99']) / 1000:.3f} |")
            print(lines[-1], flush=True)
        scaling = {}
        for name, label in (("py_work_1", "serval, 1 instance"),
                            ("py_work_2", "serval, 2 instances"),
                            ("py_work_2_batched",
                             "serval, 2 instances, dynamic batching")):
            scaling[label] = perf(args.build, server.http_port, name, USERS,
                                  args.seconds, "json", out)["throughput_rps"]
    finally:
        server.stop()
    for workers in (1, 2):
        proc, port = start_fastapi(workers, env)
        try:
            scaling[f"FastAPI, gunicorn + {workers} uvicorn worker(s)"] = perf(
                args.build, port, "numpy_work", USERS, args.seconds, "json", out,
                server_stats=False)["throughput_rps"]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    base = scaling["serval, 1 instance"]
    lines += ["", f"## Scaling a CPU-bound numpy model ({USERS} in flight, HTTP JSON)", "",
              "| set-up | req/s | / serval 1 instance |", "| --- | --- | --- |"]
    for name, rps in scaling.items():
        lines.append(f"| {name} | {rps:.1f} | {rps / base:.2f} |")
    load_after = open("/proc/loadavg").read().split()[:3]
    lines += ["", f"Load average after: {' '.join(load_after)}.", ""]
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(ROOT, "bench", "results",
                           f"{datetime.date.today()}-python-models.md"), "a") as f:
        f.write(text + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
