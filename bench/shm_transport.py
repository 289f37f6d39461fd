#!/usr/bin/python3
"""Shared memory against the socket: the same model served to the same
clients with the tensors in system shared memory, as binary over HTTP and
over gRPC, in one run.

Starts `serval serve` on one model of the example repository
(scripts/make_repository.sh), or, with --model identity_image, on an
identity model taking resnet50's input shape (FP32 [3,224,224]), where the
transport is all the work there is,
then for each transport runs CONCURRENCY closed-loop client threads for
WINDOW seconds, ROUNDS times, the transports interleaved so that machine
noise falls on all of them alike. Reports per transport the median
throughput (and spread), p50/p99 latency, server CPU per request (from
/proc/<pid>/stat) and the bytes a request and its response put on the
socket. Writes bench/results/<date>-shared-memory.md.

  /usr/bin/python3 bench/shm_transport.py [--model resnet50_onnx]
      [--concurrency 4] [--seconds 5] [--rounds 3] [--build build]
      (--model identity_image: the identity backend, resnet50's tensor)
"""

import argparse
import datetime
import json
import os
import statistics
import struct
import sys
import tempfile
import threading
import time

import grpc
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import grpc_support  # noqa: E402
import serval_harness  # noqa: E402
from shared_memory_support import ShmRegion  # noqa: E402

TRANSPORTS = ["http_binary", "grpc_raw", "http_shm", "grpc_shm"]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Client:
    """One closed-loop client: its own connection and, for shared memory,
    its own input and output regions."""

    def __init__(self, transport, server, pb, pb_grpc, meta, index):
        self.transport = transport
        self.server = server
        self.pb = pb
        inp, out = meta["inputs"][0], meta["outputs"][0]
        shape = [1] + [d for d in inp["shape"][1:]]
        self.data = np.random.default_rng(index).random(
            shape, np.float32).tobytes()
        self.out_bytes = 4 * int(np.prod(out["shape"][1:]))
        self.in_name, self.out_name, self.shape = inp["name"], out["name"], shape
        self.model = meta["name"]
        self.latencies = []
        self.count = 0
        self.socket_bytes = 0
        self.regions = []
        tag = f"{transport}_{index}"
        if transport.endswith("shm"):
            self.shm_in = ShmRegion(tag + "_in", len(self.data))
            self.shm_out = ShmRegion(tag + "_out", self.out_bytes)
            self.shm_in.write(0, self.data)
            self.regions = [self.shm_in, self.shm_out]
            for name, r in ((tag + "_in", self.shm_in), (tag + "_out", self.shm_out)):
                status, _, body = server.request(
                    "POST", f"/v2/systemsharedmemory/region/{name}/register",
                    body=json.dumps({"key": r.key, "offset": 0,
                                     "byte_size": r.size}).encode())
                assert status == 200, body
            self.in_region, self.out_region = tag + "_in", tag + "_out"
        if transport.startswith("grpc"):
            self.channel = grpc.insecure_channel(
                f"127.0.0.1:{server.grpc_port}",
                options=[("grpc.max_receive_message_length", 64 << 20),
                         ("grpc.max_send_message_length", 64 << 20)])
            self.stub = pb_grpc.GRPCInferenceServiceStub(self.channel)
            self.request = self.grpc_request()
            self.socket_per_request = self.request.ByteSize()
        else:
            self.conn = server.http_connection()
            self.body, self.headers = self.http_request()

    def http_request(self):
        if self.transport == "http_shm":
            doc = {"inputs": [{"name": self.in_name, "datatype": "FP32",
                               "shape": self.shape, "parameters": {
                                   "shared_memory_region": self.in_region,
                                   "shared_memory_byte_size": len(self.data)}}],
                   "outputs": [{"name": self.out_name, "parameters": {
                       "shared_memory_region": self.out_region,
                       "shared_memory_byte_size": self.out_bytes}}]}
            return json.dumps(doc).encode(), {"Content-Type": "application/json"}
        doc = {"inputs": [{"name": self.in_name, "datatype": "FP32",
                           "shape": self.shape,
                           "parameters": {"binary_data_size": len(self.data)}}],
               "outputs": [{"name": self.out_name,
                            "parameters": {"binary_data": True}}]}
        header = json.dumps(doc).encode()
        return header + self.data, {
            "Content-Type": "application/octet-stream",
            "Inference-Header-Content-Length": str(len(header))}

    def grpc_request(self):
        pb = self.pb
        req = pb.ModelInferRequest(model_name=self.model)
        t = req.inputs.add(name=self.in_name, datatype="FP32", shape=self.shape)
        o = req.outputs.add(name=self.out_name)
        if self.transport == "grpc_shm":
            t.parameters["shared_memory_region"].string_param = self.in_region
            t.parameters["shared_memory_byte_size"].int64_param = len(self.data)
            o.parameters["shared_memory_region"].string_param = self.out_region
            o.parameters["shared_memory_byte_size"].int64_param = self.out_bytes
        else:
            req.raw_input_contents.append(self.data)
        return req

    def one(self):
        start = time.perf_counter()
        if self.transport.startswith("grpc"):
            resp = self.stub.ModelInfer(self.request)
            sent = self.socket_per_request + resp.ByteSize()
        else:
            self.conn.request("POST", f"/v2/models/{self.model}/infer",
                              body=self.body, headers=self.headers)
            r = self.conn.getresponse()
            payload = r.read()
            if r.status != 200:
                raise RuntimeError(payload[:300])
            sent = len(self.body) + len(payload)
        return time.perf_counter() - start, sent

    def run(self, stop_at, record):
        while time.monotonic() < stop_at:
            latency, sent = self.one()
            if record:
                self.latencies.append(latency)
                self.count += 1
                self.socket_bytes += sent

    def close(self):
        if self.transport.startswith("grpc"):
            self.channel.close()
        else:
            self.conn.close()
        for r in self.regions:
            r.close()


def window(clients, seconds, record, pid):
    for c in clients:
        c.latencies, c.count, c.socket_bytes = [], 0, 0
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    threads = [threading.Thread(target=c.run, args=(t0 + seconds, record))
               for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, cpu = time.monotonic() - t0, cpu_seconds(pid) - cpu0
    n = sum(c.count for c in clients)
    lat = sorted(x for c in clients for x in c.latencies)
    return {"rps": n / elapsed, "cpu_ms": 1000 * cpu / max(n, 1),
            "p50": lat[len(lat) // 2] * 1000 if lat else 0,
            "p99": lat[int(len(lat) * 0.99)] * 1000 if lat else 0,
            "bytes": sum(c.socket_bytes for c in clients) / max(n, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50_onnx")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    models = os.path.join(ROOT, "examples", "models")
    if not os.path.exists(os.path.join(models, args.model, ".generated")):
        os.system(os.path.join(ROOT, "scripts", "make_repository.sh"))
    repo = tempfile.mkdtemp(prefix="serval-bench-")
    if args.model == "identity_image":
        grpc_support.write_identity_model(
            repo, args.model, [("FP32", [3, 224, 224])], max_batch_size=16,
            extra="dynamic_batching { }")
    else:
        os.symlink(os.path.join(models, args.model),
                   os.path.join(repo, args.model))
    stubs = tempfile.mkdtemp(prefix="serval-stubs-")
    pb, pb_grpc, _, _ = grpc_support.generate_stubs(stubs)
    uptime_before = open("/proc/loadavg").read().split()[:3]
    server = serval_harness.Serval(
        os.path.join(args.build, "serval"), os.path.join(args.build, "backends"),
        [repo], log_level="warn")
    server.start()
    results = {t: [] for t in TRANSPORTS}
    try:
        status, _, body = server.request("GET", f"/v2/models/{args.model}")
        meta = json.loads(body)
        clients = {t: [Client(t, server, pb, pb_grpc, meta, i)
                       for i in range(args.concurrency)] for t in TRANSPORTS}
        for t in TRANSPORTS:  # warm-up
            window(clients[t], 2, False, server.proc.pid)
        for _ in range(args.rounds):
            for t in TRANSPORTS:
                results[t].append(window(clients[t], args.seconds, True,
                                         server.proc.pid))
        for cs in clients.values():
            for c in cs:
                c.close()
    finally:
        server.stop()
    uptime_after = open("/proc/loadavg").read().split()[:3]

    def med(t, key):
        return statistics.median(r[key] for r in results[t])
    base = "http_binary"
    lines = [
        f"# Shared memory vs the socket: {args.model}",
        "",
        f"`/usr/bin/python3 bench/shm_transport.py --model {args.model} "
        f"--concurrency {args.concurrency} --seconds {args.seconds:g} "
        f"--rounds {args.rounds}`, {datetime.date.today()}; load average "
        f"before {' '.join(uptime_before)}, after {' '.join(uptime_after)}.",
        "",
        f"{args.concurrency} closed-loop Python client threads on the same "
        "2 cores as the server, one connection (or channel) each; each "
        "transport measured in "
        f"{args.rounds} windows of {args.seconds:g} s, interleaved with the "
        "others; medians (min-max of throughput). Server CPU per request is "
        "the serval process's user+system time over the window divided by "
        "the requests answered. Socket bytes: request and response bodies "
        "(HTTP) or serialized messages (gRPC), per request.",
        "",
        "| transport | req/s (min-max) | vs HTTP binary | p50 ms | p99 ms | "
        "server CPU ms/req | vs HTTP binary | socket bytes/req |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in TRANSPORTS:
        rps = [r["rps"] for r in results[t]]
        lines.append(
            f"| {t} | {med(t, 'rps'):.1f} ({min(rps):.1f}-{max(rps):.1f}) | "
            f"{med(t, 'rps') / med(base, 'rps'):.2f}x | {med(t, 'p50'):.1f} | "
            f"{med(t, 'p99'):.1f} | {med(t, 'cpu_ms'):.2f} | "
            f"{med(t, 'cpu_ms') / med(base, 'cpu_ms'):.2f}x | "
            f"{med(t, 'bytes'):.0f} |")
    text = "\n".join(lines) + "\n"
    out = os.path.join(ROOT, "bench", "results",
                       f"{datetime.date.today()}-shared-memory.md")
    # Several models in one run: append.
    with open(out, "a") as f:
        f.write(text)
    print(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
