#!/usr/bin/python3
"""Overload on this machine: what serval serves, within a latency budget, at
0.5x to 10x the offered load it saturates at, and how fast it refuses the rest.

Three parts, each against one `serval serve` on free loopback ports, measured
with `serval perf` (open loop Poisson for rates, closed loop for users):

  open      per model and encoding: the saturation rate (closed loop at the
            users that saturate it), then Poisson at 0.5x, 1x, 2x, 5x and 10x
            of it: goodput (successes within the SLO) / saturation, p99 of
            successes, refusals and their p99, other errors, and the load
            generator's send lag (how far behind its schedule it fell).
            resnet50_onnx as configured in examples/models (default queue
            budget), the same with latency_target_ms 1000 (the seeds' 1 s
            SLO), with the queue bound in count only (queue_budget_ms 0, the
            behaviour before the time bound), and mlp_onnx.
  closed    twice the users that saturate resnet50_onnx: throughput / the
            saturation and failures (the seeds' test).
  adaptive  resnet50_onnx with latency_target_ms against a sweep of fixed
            max_batch_size x max_queue_delay: the best throughput with p99
            within the target (closed loop over a range of users), and p50 at
            0.1x the saturation rate against no batching.

Appends a report to bench/results/<date>-overload.md.

  /usr/bin/python3 bench/overload.py [--seconds 30] [--parts open,closed,adaptive]
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import serval_harness  # noqa: E402

EXAMPLES = os.path.join(ROOT, "examples", "models")
MULTIPLES = [0.5, 1, 2, 5, 10]


def variant(repo, base, name, edit):
    """A copy of examples/models/<base> named `name`, its config edited by
    `edit(text)`, its version directory linked (weights not copied)."""
    src = os.path.join(EXAMPLES, base)
    dst = os.path.join(repo, name)
    os.makedirs(dst)
    for entry in os.listdir(src):
        if entry.isdigit():
            os.symlink(os.path.join(src, entry), os.path.join(dst, entry))
    with open(os.path.join(src, "config.pbtxt")) as f:
        text = f.read().replace(f'name: "{base}"', f'name: "{name}"')
    with open(os.path.join(dst, "config.pbtxt"), "w") as f:
        f.write(edit(text))


def param(key, value):
    return lambda t: t + f'parameters {{ key: "{key}" value {{ string_value: "{value}" }} }}\n'


def batching(max_batch, delay_us):
    """A fixed batching config, with the queue bound in count only, so
    that what it serves is the batching's doing."""
    def edit(t):
        t = re.sub(r"max_batch_size: \d+", f"max_batch_size: {max_batch}", t)
        t = t.replace("dynamic_batching { }",
                      f"dynamic_batching {{ max_queue_delay_microseconds: {delay_us} }}")
        return param("queue_budget_ms", 0)(t)
    return edit


class Perf:
    def __init__(self, build, server, work):
        self.serval = os.path.join(build, "serval")
        self.server = server
        self.out = os.path.join(work, "perf.json")

    def run(self, model, encoding, args, slo_ms):
        cmd = [self.serval, "perf", "-m", model, "-u",
               f"127.0.0.1:{self.server.http_port}", "--encoding", encoding,
               "--latency-budget-ms", str(slo_ms), "--no-progress",
               "--json", self.out] + args
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(self.out) as f:
            return json.load(f)["steps"]

    def closed(self, model, encoding, users, seconds, slo_ms, windows=3):
        return self.run(model, encoding,
                        ["--concurrency-range", str(users), "-p",
                         str(int(seconds * 1000)), "-r", str(windows)],
                        slo_ms)[0]

    def open(self, model, encoding, rate, seconds, slo_ms):
        return self.run(model, encoding,
                        ["--request-rate-range", f"{rate:.2f}",
                         "--request-distribution", "poisson", "-p",
                         str(int(seconds * 1000)), "-r", "1", "--warmup", "2",
                         "--max-connections", "1024"],
                        slo_ms)[0]


def ms(us):
    return us / 1000.0


def open_rows(perf, seconds, cases):
    lines = ["| model | encoding | SLO ms | offered | offered req/s | successes/s | "
             "goodput / saturation | p99 of successes ms | refusals | "
             "refusal p99 ms | other errors | send lag avg / max ms |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    saturation = {}
    for model, encoding, users, slo, multiples, like in cases:
        if like is not None:
            # A config that refuses by design (a latency target) would
            # understate what the machine serves: its multiples are of the
            # plain model's saturation.
            s_rps = saturation[(like, encoding)]
        else:
            sat = perf.closed(model, encoding, users, 5, slo)
            s_rps = sat["throughput_rps"]
            saturation[(model, encoding)] = s_rps
            lines.append(
                f"| {model} | {encoding} | {slo} | saturation (closed, "
                f"{users} users) | | {s_rps:.1f} | | "
                f"{ms(sat['latency_us']['p99']):.0f} | {sat['refusals']} | "
                f"| {sat['other_errors']} | |")
        for x in multiples:
            st = perf.open(model, encoding, x * s_rps, seconds, slo)
            lag = st["client_us"]
            lines.append(
                f"| {model} | {encoding} | {slo} | {x}x | {x * s_rps:.1f} | "
                f"{st['successes'] / st['seconds']:.1f} | "
                f"{st['goodput_rps'] / s_rps:.2f} | "
                f"{ms(st['latency_us']['p99']):.0f} | {st['refusals']} | "
                f"{ms(st['refusal_latency_us']['p99']):.2f} | "
                f"{st['other_errors']} | "
                f"{ms(lag['send_lag_avg']):.1f} / "
                f"{ms(lag['send_lag_max']):.1f} |")
            print(lines[-1], flush=True)
    return lines, saturation


def closed_rows(perf, seconds, saturation_rps):
    st = perf.closed("resnet50_onnx", "binary", 32, seconds, 10000)
    return [
        "| users | req/s | / saturation | p50 ms | p99 ms | refusals | other errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| 32 (2x the 16 that saturate) | {st['throughput_rps']:.1f} | "
        f"{st['throughput_rps'] / saturation_rps:.2f} | "
        f"{ms(st['latency_us']['p50']):.0f} | {ms(st['latency_us']['p99']):.0f} | "
        f"{st['refusals']} | {st['other_errors']} |"]


SWEEP_BATCH = [1, 4, 16]
SWEEP_DELAY_US = [0, 100000]
SWEEP_USERS = [4, 8, 16, 32]
TARGET_MS = 1000


def sweep_names():
    return [f"resnet50_b{b}_d{d // 1000}" for b in SWEEP_BATCH
            for d in SWEEP_DELAY_US]


def best_within(perf, model, seconds, target_ms):
    """The highest rate of successes over SWEEP_USERS whose p99 <= target
    (refused requests are not successes)."""
    best, at = 0.0, None
    for users in SWEEP_USERS:
        st = perf.closed(model, "binary", users, seconds, target_ms)
        if st["latency_us"]["p99"] <= target_ms * 1000 and \
                st["other_errors"] == 0:
            if st["throughput_rps"] > best:
                best, at = st["throughput_rps"], users
    return best, at


def adaptive_rows(perf, seconds, saturation_rps):
    lines = [f"| config | best req/s with p99 <= {TARGET_MS} ms | at users |",
             "| --- | --- | --- |"]
    fixed = []
    for name in sweep_names():
        rps, users = best_within(perf, name, seconds, TARGET_MS)
        fixed.append(rps)
        lines.append(f"| {name} | {rps:.1f} | {users} |")
        print(lines[-1], flush=True)
    rps, users = best_within(perf, "resnet50_adaptive", seconds, TARGET_MS)
    lines.append(f"| resnet50_adaptive (latency_target_ms {TARGET_MS}) | "
                 f"{rps:.1f} | {users} |")
    lines.append("")
    lines.append(f"Adaptive / best fixed: {rps / max(fixed):.2f}")
    quiet = 0.1 * saturation_rps
    p50 = {}
    for name in ["resnet50_b1_d0", "resnet50_adaptive"]:
        st = perf.open(name, "binary", quiet, seconds, 10000)
        p50[name] = ms(st["latency_us"]["p50"])
    lines.append(f"p50 at 0.1x ({quiet:.1f} req/s Poisson): adaptive "
                 f"{p50['resnet50_adaptive']:.1f} ms, no batching "
                 f"{p50['resnet50_b1_d0']:.1f} ms: "
                 f"{p50['resnet50_adaptive'] / p50['resnet50_b1_d0']:.2f}x")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--parts", default="open,closed,adaptive")
    parser.add_argument("--models", default="",
                        help="open part: only the cases of these models "
                             "(comma-separated; resnet50_onnx always measures "
                             "the saturation the others are relative to)")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    parts = args.parts.split(",")
    if not os.path.exists(os.path.join(EXAMPLES, "resnet50_onnx", ".generated")):
        subprocess.run([os.path.join(ROOT, "scripts", "make_repository.sh")],
                       check=True)
    work = tempfile.mkdtemp(prefix="serval-overload-")
    repo = os.path.join(work, "repo")
    os.makedirs(repo)
    variant(repo, "resnet50_onnx", "resnet50_onnx", lambda t: t)
    variant(repo, "mlp_onnx", "mlp_onnx", lambda t: t)
    if "open" in parts:
        variant(repo, "resnet50_onnx", "resnet50_slo",
                param("latency_target_ms", TARGET_MS))
        variant(repo, "resnet50_onnx", "resnet50_count",
                param("queue_budget_ms", 0))
    if "adaptive" in parts:
        for b in SWEEP_BATCH:
            for d in SWEEP_DELAY_US:
                variant(repo, "resnet50_onnx", f"resnet50_b{b}_d{d // 1000}",
                        batching(b, d))
        variant(repo, "resnet50_onnx", "resnet50_adaptive",
                param("latency_target_ms", TARGET_MS))
    load_before = open("/proc/loadavg").read().split()[:3]
    server = serval_harness.Serval(
        os.path.join(args.build, "serval"), os.path.join(args.build, "backends"),
        [repo], log_level="warn", ready_timeout_s=300)
    server.start()
    out = []
    try:
        perf = Perf(args.build, server, work)
        saturation = None
        if "open" in parts:
            cases = [
                ("resnet50_onnx", "json", 16, 2000, MULTIPLES, None),
                ("resnet50_onnx", "binary", 16, 2000, MULTIPLES, None),
                ("resnet50_slo", "json", 16, TARGET_MS, MULTIPLES, "resnet50_onnx"),
                ("resnet50_slo", "binary", 16, TARGET_MS, MULTIPLES, "resnet50_onnx"),
                ("resnet50_count", "binary", 16, 2000, [2], "resnet50_onnx"),
                # The client cannot offer more than about 2x of what mlp
                # serves on these cores: the send lag shows it.
                ("mlp_onnx", "binary", 32, 50, [0.5, 1, 2], None),
            ]
            if args.models:
                keep = args.models.split(",")
                cases = [c for c in cases if c[0] in keep or
                         (c[0] == "resnet50_onnx" and c[5] is None)]
            lines, sat = open_rows(perf, args.seconds, cases)
            saturation = sat[("resnet50_onnx", "binary")]
            out += ["## Open loop, Poisson", ""] + lines + [""]
        if saturation is None:
            saturation = perf.closed("resnet50_onnx", "binary", 16, 5,
                                     10000)["throughput_rps"]
        if "closed" in parts:
            out += ["## Closed loop at twice the users", ""] + \
                closed_rows(perf, args.seconds, saturation) + [""]
        if "adaptive" in parts:
            out += ["## Adaptive batching against a fixed sweep", ""] + \
                adaptive_rows(perf, min(args.seconds, 6), saturation) + [""]
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    load_after = open("/proc/loadavg").read().split()[:3]
    header = [f"# Overload ({datetime.date.today()})", "",
              f"`bench/overload.py --seconds {args.seconds:g} --parts "
              f"{args.parts}" + (f" --models {args.models}" if args.models else "") +
              f"`; load average before {' '.join(load_before)}, "
              f"after {' '.join(load_after)}; 2 cores shared by serval and "
              "`serval perf`.", ""]
    text = "\n".join(header + out) + "\n"
    print(text)
    path = os.path.join(ROOT, "bench", "results",
                        f"{datetime.date.today()}-overload.md")
    with open(path, "a") as f:
        f.write(text)


if __name__ == "__main__":
    main()
