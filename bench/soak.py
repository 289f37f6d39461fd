#!/usr/bin/python3
"""Endurance run: an hour (by default) of mixed load on one `serval serve`
holding every example model, to show that nothing drifts: no unexpected
error, resident memory and open file descriptors flat after the warm-up,
latency percentiles per window.

What runs side by side, all against loopback:
  steady    open-loop Poisson streams with `serval perf`, one window per
            report window, so each window's percentiles are exact:
            mlp_onnx HTTP JSON, mlp_torch HTTP binary, text_lstm_onnx gRPC,
            resnet50_onnx HTTP binary (low rate: it is the heavy one).
  stream    one gRPC ModelStreamInfer stream on `simple`, every answer
            checked (OUTPUT0 = INPUT0 + INPUT1).
  sweep     every other example model perf can drive with random inputs,
            one after another, a few seconds each, round and round.
  reload    mlp_onnx reloaded through the load API every minute while its
            steady stream runs (a hot reload must fail no request).
  burst     every ten minutes, 20 s of 48 closed-loop users on
            resnet50_onnx: refusals are expected (fail fast), anything
            else is not.
  rude      clients that leave mid-request: half an infer body then close,
            a full request closed before the answer, gRPC calls with a
            deadline too short to meet.
  sample    every 10 s: the server's RSS, open file descriptors, threads.

Unexpected = any error other than a refusal (HTTP 503/429, gRPC
UNAVAILABLE/RESOURCE_EXHAUSTED) or the deadline the rude clients asked
for, and any failed reload or wrong streamed answer.

Drift compares the mean of the first window after the warm-up with the mean
of the last window. Appends a report to bench/results/<date>-soak.md.

  bench/soak.sh [--minutes 60] [--window-min 5] [--warmup-min 5]
"""

import argparse
import datetime
import json
import os
import queue
import random
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import grpc_support  # noqa: E402
import serval_harness  # noqa: E402

EXAMPLES = os.path.join(ROOT, "examples", "models")

# (model, protocol, encoding, request rate per second)
STEADY = [("mlp_onnx", "http", "json", 150),
          ("mlp_torch", "http", "binary", 150),
          ("text_lstm_onnx", "grpc", "binary", 60),
          ("resnet50_onnx", "http", "binary", 2)]
RELOADED = "mlp_onnx"
BURST_MODEL, BURST_USERS, BURST_SECONDS, BURST_EVERY_S = "resnet50_onnx", 48, 20, 600
# Models the sweep leaves out, and why: the steady streams already drive
# them, or random inputs are not a valid request for them (images must
# decode, sequences need their control inputs).
NOT_SWEPT = {m for m, *_ in STEADY} | {"simple"}


class Stop:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.event = threading.Event()

    def left(self):
        return self.end - time.monotonic()

    def wait(self, seconds):
        """Sleeps `seconds` or until the end; True while the run goes on."""
        return not self.event.wait(max(0.0, min(seconds, self.left())))

    def done(self):
        return self.event.is_set() or self.left() <= 0


class Log:
    """Counts of everything that happened, by window, thread-safe."""

    def __init__(self, t0, window_s):
        self.t0, self.window_s = t0, window_s
        self.lock = threading.Lock()
        self.counts = {}      # (window, key) -> n
        self.steady = {}      # (window, stream) -> perf step
        self.samples = []     # (t, rss, fds, threads)
        self.unexpected = []  # (t, what)

    def window(self, t=None):
        return int(((t or time.monotonic()) - self.t0) // self.window_s)

    def add(self, key, n=1):
        with self.lock:
            k = (self.window(), key)
            self.counts[k] = self.counts.get(k, 0) + n

    def fail(self, what):
        with self.lock:
            self.unexpected.append((time.monotonic() - self.t0, what))
            k = (self.window(), "unexpected")
            self.counts[k] = self.counts.get(k, 0) + 1


def perf(serval, server, model, protocol, encoding, args, out):
    url = server.grpc_port if protocol == "grpc" else server.http_port
    cmd = [serval, "perf", "-m", model, "-u", f"127.0.0.1:{url}", "-i", protocol,
           "--no-progress", "--no-server-stats", "--json", out] + args
    if protocol == "http":
        cmd += ["--encoding", encoding]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        raise RuntimeError(f"perf {model}: {p.stderr.strip()[-500:]}")
    with open(out) as f:
        return json.load(f)["steps"][0]


def steady_stream(args, server, log, stop, work, spec):
    model, protocol, encoding, rate = spec
    name = f"{model} {protocol}-{encoding}" if protocol == "http" else f"{model} grpc"
    out = os.path.join(work, f"steady-{model}.json")
    # Windows aligned to the report's: each perf run lasts to the next
    # window boundary.
    while not stop.done():
        w = log.window()
        seconds = min(log.t0 + (w + 1) * log.window_s - time.monotonic(), stop.left())
        if seconds < 5:
            stop.wait(seconds)
            continue
        try:
            step = perf(args.serval, server, model, protocol, encoding,
                        ["--request-rate-range", str(rate), "--request-distribution",
                         "poisson", "-p", str(int(seconds * 1000) - 500), "-r", "1",
                         "--warmup", "0", "--max-connections", "256",
                         "--latency-budget-ms", "60000"], out)
        except Exception as e:  # noqa: BLE001 - a failed run is a finding
            log.fail(f"{name}: {e}")
            stop.wait(1)
            continue
        with log.lock:
            log.steady[(w, name)] = step
        log.add("requests", step["successes"] + step["errors"])
        log.add("refusals", step["refusals"])
        if step["other_errors"]:
            log.fail(f"{name}: {step['other_errors']} errors "
                     f"{step.get('errors_by_code')}")


def stream_client(args, server, log, stop, pb2, pb2_grpc):
    import grpc
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    stub = pb2_grpc.GRPCInferenceServiceStub(channel)
    sent = queue.Queue()

    def requests():
        i = 0
        while not stop.done():
            a = [random.randint(-1000, 1000) for _ in range(16)]
            b = [random.randint(-1000, 1000) for _ in range(16)]
            r = pb2.ModelInferRequest(model_name="simple", id=str(i))
            for n, v in (("INPUT0", a), ("INPUT1", b)):
                t = r.inputs.add(name=n, datatype="INT32", shape=[1, 16])
                t.contents.int_contents.extend(v)
            sent.put((str(i), a, b))
            i += 1
            yield r
            stop.wait(0.02)

    while not stop.done():
        try:
            for resp in stub.ModelStreamInfer(requests()):
                rid, a, b = sent.get_nowait()
                log.add("stream")
                if resp.error_message:
                    if "overloaded" in resp.error_message or "queue" in resp.error_message:
                        log.add("refusals")
                    else:
                        log.fail(f"stream: {resp.error_message}")
                    continue
                got = resp.infer_response
                out0 = struct.unpack("<16i", got.raw_output_contents[0])
                if got.id != rid or list(out0) != [x + y for x, y in zip(a, b)]:
                    log.fail(f"stream: wrong answer to {rid}")
        except Exception as e:  # noqa: BLE001
            if not stop.done():
                log.fail(f"stream broke: {e}")
                stop.wait(1)
    channel.close()


def sweeper(args, server, log, stop, work, models):
    out = os.path.join(work, "sweep.json")
    while not stop.done():
        for model in models:
            if stop.left() < 10:
                return
            try:
                step = perf(args.serval, server, model, "http", "binary",
                            ["--concurrency-range", "2", "-p", "3000", "-r", "1",
                             "--warmup", "0"], out)
            except Exception as e:  # noqa: BLE001
                log.fail(f"sweep {model}: {e}")
                continue
            log.add("requests", step["successes"] + step["errors"])
            log.add("sweep")
            # A pause, so the sweep's closed loop does not saturate the
            # machine the steady streams share.
            stop.wait(2)
            log.add("refusals", step["refusals"])
            if step["other_errors"]:
                log.fail(f"sweep {model}: {step['other_errors']} errors "
                         f"{step.get('errors_by_code')}")


def reloader(server, log, stop):
    while stop.wait(60):
        t = time.monotonic()
        status, _, body = server.request(
            "POST", f"/v2/repository/models/{RELOADED}/load", b"{}", timeout=120)
        log.add("reloads")
        log.add("reload_ms", int((time.monotonic() - t) * 1000))
        if status != 200:
            log.fail(f"reload {RELOADED}: {status} {body[:200]!r}")


def burster(args, server, log, stop, work):
    out = os.path.join(work, "burst.json")
    while stop.wait(BURST_EVERY_S):
        if stop.left() < BURST_SECONDS + 5:
            return
        try:
            step = perf(args.serval, server, BURST_MODEL, "http", "binary",
                        ["--concurrency-range", str(BURST_USERS), "-p",
                         str(BURST_SECONDS * 1000), "-r", "1", "--warmup", "0",
                         "--latency-budget-ms", "60000"], out)
        except Exception as e:  # noqa: BLE001
            log.fail(f"burst: {e}")
            continue
        log.add("bursts")
        log.add("requests", step["successes"] + step["errors"])
        log.add("burst_refusals", step["refusals"])
        log.add("refusals", step["refusals"])
        with log.lock:
            log.steady[(log.window(), "burst")] = step
        if step["other_errors"]:
            log.fail(f"burst: {step['other_errors']} errors {step.get('errors_by_code')}")


def rude_clients(server, log, stop, pb2, pb2_grpc):
    import grpc
    body = json.dumps({"inputs": [{"name": "INPUT0", "shape": [1, 16],
                                   "datatype": "INT32", "data": list(range(16))},
                                  {"name": "INPUT1", "shape": [1, 16],
                                   "datatype": "INT32", "data": list(range(16))}]}).encode()
    head = (f"POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    stub = pb2_grpc.GRPCInferenceServiceStub(channel)
    r = pb2.ModelInferRequest(model_name=BURST_MODEL)
    t = r.inputs.add(name="input", datatype="FP32", shape=[1, 3, 224, 224])
    r.raw_input_contents.append(bytes(4 * 3 * 224 * 224))
    n = 0
    while stop.wait(0.5):
        kind = n % 3
        n += 1
        try:
            if kind == 2:
                try:
                    stub.ModelInfer(r, timeout=0.005)
                except grpc.RpcError as e:
                    if e.code() not in (grpc.StatusCode.DEADLINE_EXCEEDED,
                                        grpc.StatusCode.UNAVAILABLE,
                                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                                        grpc.StatusCode.CANCELLED):
                        log.fail(f"rude gRPC: {e.code()} {e.details()}")
                log.add("rude")
                continue
            s = socket.create_connection(("127.0.0.1", server.http_port), timeout=5)
            s.sendall(head + (body[:len(body) // 2] if kind == 0 else body))
            s.close()
            log.add("rude")
        except OSError as e:
            log.fail(f"rude HTTP: {e}")
    channel.close()


def sampler(server, log, stop):
    pid = server.proc.pid
    while not stop.done():
        try:
            rss = server.rss_bytes()
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            with open(f"/proc/{pid}/status") as f:
                threads = next(int(l.split()[1]) for l in f if l.startswith("Threads:"))
        except (OSError, RuntimeError, StopIteration):
            log.fail("server gone")
            stop.event.set()
            return
        with log.lock:
            log.samples.append((time.monotonic() - log.t0, rss, fds, threads))
        stop.wait(10)


def sweepable(args, server, work):
    """Example models perf drives with random inputs without error."""
    status, _, body = server.request("POST", "/v2/repository/index", b"{}")
    names = sorted(e["name"] for e in json.loads(body) if e.get("state") == "READY")
    ok = []
    out = os.path.join(work, "probe.json")
    for m in names:
        if m in NOT_SWEPT:
            continue
        try:
            step = perf(args.serval, server, m, "http", "binary",
                        ["--concurrency-range", "1", "-p", "500", "-r", "1",
                         "--warmup", "0"], out)
            if step["errors"] == 0 and step["successes"] > 0:
                ok.append(m)
        except Exception:  # noqa: BLE001 - not drivable with random inputs
            pass
    return names, ok


def mean(xs):
    return statistics.fmean(xs) if xs else float("nan")


def report(args, log, names, swept, uptime_before, started):
    windows = max(1, int(args.minutes * 60 // log.window_s))
    lines = [f"## Soak, {started:%Y-%m-%d %H:%M} UTC: {args.minutes} min, "
             f"{log.window_s // 60}-min windows", "",
             f"Load average before: {uptime_before}. Models READY: {len(names)}; "
             f"swept with random inputs: {', '.join(swept)}.", ""]
    streams = sorted({k[1] for k in log.steady if k[1] != "burst"})
    head = ["window (min)", "requests", "unexpected", "refusals", "reloads",
            "rude", "RSS MB", "fds", "threads"] + [f"{s} p50/p99 ms" for s in streams]
    lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    per_window = []
    for w in range(windows):
        c = lambda k: log.counts.get((w, k), 0)  # noqa: E731
        smp = [s for s in log.samples if int(s[0] // log.window_s) == w]
        rss = mean([s[1] for s in smp]) / 2**20
        fds = mean([s[2] for s in smp])
        thr = mean([s[3] for s in smp])
        per_window.append((rss, fds, thr))
        cells = [f"{w * log.window_s // 60}-{(w + 1) * log.window_s // 60}",
                 str(c("requests") + c("stream")), str(c("unexpected")),
                 str(c("refusals")), str(c("reloads")), str(c("rude")),
                 f"{rss:.0f}", f"{fds:.0f}", f"{thr:.0f}"]
        for s in streams:
            st = log.steady.get((w, s))
            cells.append(f"{st['latency_us']['p50'] / 1000:.1f} / "
                         f"{st['latency_us']['p99'] / 1000:.1f}" if st else "-")
        lines.append("| " + " | ".join(cells) + " |")
    first = int(args.warmup_min * 60 // log.window_s)
    if first < len(per_window) - 1:
        a, b = per_window[first], per_window[-1]
        drift = lambda i: 100.0 * (b[i] - a[i]) / a[i]  # noqa: E731
        lines += ["", f"Drift, window {first} (after the {args.warmup_min}-min warm-up) "
                  f"to the last: RSS {a[0]:.0f} -> {b[0]:.0f} MB ({drift(0):+.1f} %), "
                  f"open fds {a[1]:.0f} -> {b[1]:.0f} ({drift(1):+.1f} %), threads "
                  f"{a[2]:.0f} -> {b[2]:.0f} ({drift(2):+.1f} %)."]
    total = lambda k: sum(v for (w, kk), v in log.counts.items() if kk == k)  # noqa: E731
    reload_ms = total("reload_ms") / max(1, total("reloads"))
    lines += ["", f"Totals: {total('requests') + total('stream')} requests "
              f"({total('stream')} on the gRPC stream, {total('sweep')} sweep runs), "
              f"{total('unexpected')} unexpected errors, {total('refusals')} refusals "
              f"({total('burst_refusals')} in {total('bursts')} bursts), "
              f"{total('reloads')} reloads of {RELOADED} (mean {reload_ms:.0f} ms), "
              f"{total('rude')} rude clients."]
    bursts = [v for (w, k), v in log.steady.items() if k == "burst"]
    if bursts:
        lines.append(
            "Bursts (" + f"{BURST_USERS} users, {BURST_SECONDS} s on {BURST_MODEL}): "
            + "; ".join(f"{b['successes']} served p99 {b['latency_us']['p99'] / 1000:.0f} ms, "
                        f"{b['refusals']} refused p99 {b['refusal_latency_us']['p99'] / 1000:.1f} ms"
                        if "refusal_latency_us" in b else
                        f"{b['successes']} served, {b['refusals']} refused" for b in bursts)
            + ".")
    if log.unexpected:
        lines += ["", "Unexpected errors (first 20):"]
        lines += [f"- {t / 60:.1f} min: {w}" for t, w in log.unexpected[:20]]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--window-min", type=float, default=5)
    ap.add_argument("--warmup-min", type=float, default=5)
    ap.add_argument("--serval", default=os.path.join(ROOT, "build", "serval"))
    ap.add_argument("--backends", default=os.path.join(ROOT, "build", "backends"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    started = datetime.datetime.utcnow()
    out = args.out or os.path.join(ROOT, "bench", "results",
                                   f"{started:%Y-%m-%d}-soak.md")
    uptime_before = open("/proc/loadavg").read().split()[:3]
    with tempfile.TemporaryDirectory(prefix="serval-soak-") as work:
        pb2, pb2_grpc, _, _ = grpc_support.generate_stubs(work)
        with serval_harness.Serval(
                args.serval, args.backends, [EXAMPLES], log_level="warn",
                ready_timeout_s=300,
                extra_args=["--model-control-mode", "explicit", "--load-model", "*"]) as server:
            names, swept = sweepable(args, server, work)
            log = Log(time.monotonic(), int(args.window_min * 60))
            stop = Stop(args.minutes * 60)
            threads = [threading.Thread(target=steady_stream,
                                        args=(args, server, log, stop, work, s))
                       for s in STEADY]
            threads += [
                threading.Thread(target=stream_client,
                                 args=(args, server, log, stop, pb2, pb2_grpc)),
                threading.Thread(target=sweeper, args=(args, server, log, stop, work, swept)),
                threading.Thread(target=reloader, args=(server, log, stop)),
                threading.Thread(target=burster, args=(args, server, log, stop, work)),
                threading.Thread(target=rude_clients,
                                 args=(server, log, stop, pb2, pb2_grpc)),
                threading.Thread(target=sampler, args=(server, log, stop))]
            for t in threads:
                t.daemon = True
                t.start()
            try:
                while not stop.done():
                    stop.wait(60)
                    c = sum(v for (w, k), v in log.counts.items() if k == "unexpected")
                    s = log.samples[-1] if log.samples else (0, 0, 0, 0)
                    print(f"soak: {(time.monotonic() - log.t0) / 60:.0f} min, "
                          f"RSS {s[1] / 2**20:.0f} MB, {s[2]} fds, {c} unexpected",
                          flush=True)
            except KeyboardInterrupt:
                stop.event.set()
            stop.event.set()
            for t in threads:
                t.join(timeout=120)
            if not server.alive():
                log.fail(f"serval exited with {server.proc.returncode}")
            errors_logged = sum(1 for l in server.log_text().splitlines()
                                if "[error]" in l or "[critical]" in l)
            text = report(args, log, names, swept, " ".join(uptime_before), started)
            text += f"\nServer log: {errors_logged} error/critical lines.\n"
    with open(out, "a") as f:
        f.write(text + "\n")
    print(text)
    print(f"soak: report appended to {out}")
    return 1 if log.unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
