#!/usr/bin/python3
"""`serval tune` on this machine: is the quick search good enough, fast
enough, repeatable, and what does it gain over the default configuration?

For each model (mlp_onnx, resnet50_onnx from examples/models), with
throughput as the objective under a p99 budget, each run starting its own
serval (`--model-repository`):

  quick x2  the quick search on a reduced space, twice (repeatability)
  brute     every point of that same space (what quick should find)
  default   the quick search on the default space (its wall time)

and reports: quick's best objective / brute's; wall times; the per-trial
overhead beyond the model's own load (tune's setup from READY to the
first measured request, and the rest of the time between trials); the
best configuration's throughput / the default configuration's at its best
load under the same budget; the two quick runs' objectives.

Appends a report to bench/results/<date>-tune.md.

  /usr/bin/python3 bench/tune.py [--models mlp_onnx,resnet50_onnx]
                                 [--parts quick,brute,default]
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVAL = os.path.join(ROOT, "build", "serval")
REPO = os.path.join(ROOT, "examples", "models")

# The reduced spaces, small enough for a brute grid in minutes.
SPACES = {
    "mlp_onnx": dict(budget_ms=20, args=[
        "--instances", "1,2", "--threads", "1,2",
        "--max-batch-size", "1,8,32,64", "--queue-delay-us", "0,1000",
        "--preferred", "none", "--concurrency", "4,16,64"]),
    "resnet50_onnx": dict(budget_ms=2000, args=[
        "--instances", "1,2", "--threads", "1,2",
        "--max-batch-size", "1,4,16", "--queue-delay-us", "0,5000",
        "--preferred", "none", "--concurrency", "2,8,32"]),
}


def tune(model, out_dir, *extra):
    cmd = [SERVAL, "tune", "-m", model, "--model-repository", REPO,
           "-o", out_dir, "--fresh", "--no-progress",
           "--max-p99-ms", str(SPACES[model]["budget_ms"]), *extra]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stderr}")
    with open(os.path.join(out_dir, "trials.json")) as f:
        data = json.load(f)
    return dict(wall_s=wall, data=data, log=proc.stderr)


def best(run):
    t = {x["key"]: x for x in run["data"]["trials"]}
    return t[run["data"]["best"]], t.get(run["data"]["baseline"])


def overhead(run):
    trials = run["data"]["trials"]
    n = len(trials)
    setup = statistics.median(t["setup_ms"] for t in trials)
    load = statistics.median(t["load_ms"] for t in trials)
    accounted = sum(t["load_ms"] / 1e3 + t["setup_ms"] / 1e3 + t["measure_s"]
                    for t in trials)
    # Starting the server, loading the model once, restoring it, writing
    # the outputs: spread over the trials.
    rest = (run["wall_s"] - accounted) / n
    return setup, load, rest


def line(t):
    threads = int(t["threads"]) or "auto"
    return (f"{t['model']} {int(t['instances'])}x{threads} thr, "
            f"batch {int(t['max_batch_size'])}, "
            f"delay {t['queue_delay_us']:g} us, "
            f"concurrency {t['load']:g}: {t['throughput']:.1f} req/s, "
            f"p99 {t['p99_ms']:.2f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="mlp_onnx,resnet50_onnx")
    ap.add_argument("--parts", default="quick,brute,default")
    ap.add_argument("--work", default="/tmp/serval-tune-bench")
    args = ap.parse_args()
    parts = args.parts.split(",")
    out = [f"\n## {datetime.datetime.now():%Y-%m-%d %H:%M} "
           f"(load before: {os.getloadavg()[0]:.2f})\n"]
    for model in args.models.split(","):
        space = SPACES[model]["args"]
        runs = {}
        base = os.path.join(args.work, model)
        if "quick" in parts:
            runs["quick1"] = tune(model, f"{base}/quick1", *space)
            runs["quick2"] = tune(model, f"{base}/quick2", *space)
        if "brute" in parts:
            runs["brute"] = tune(model, f"{base}/brute", "--search", "brute",
                                 *space)
        if "default" in parts:
            runs["default"] = tune(model, f"{base}/default")
        out.append(f"\n### {model} (throughput, p99 <= "
                   f"{SPACES[model]['budget_ms']} ms; load now "
                   f"{os.getloadavg()[0]:.2f})\n")
        out.append("| run | trials | wall | best | vs default config | "
                   "setup ms (median) | load ms (median) | other s/trial |")
        out.append("|---|---|---|---|---|---|---|---|")
        for name, run in runs.items():
            b, d = best(run)
            setup, load, rest = overhead(run)
            gain = f"{b['throughput'] / d['throughput']:.2f}x" if d else "-"
            out.append(f"| {name} | {len(run['data']['trials'])} | "
                       f"{run['wall_s'] / 60:.1f} min | {line(b)} | {gain} | "
                       f"{setup:.0f} | {load:.0f} | {rest:.2f} |")
        if "quick1" in runs and "brute" in runs:
            q = best(runs["quick1"])[0]["throughput"]
            q2 = best(runs["quick2"])[0]["throughput"]
            g = best(runs["brute"])[0]["throughput"]
            out.append(f"\nquick/brute best objective: {q / g:.3f} "
                       f"(second quick run {q2 / g:.3f}); quick runs "
                       f"{abs(q - q2) / max(q, q2) * 100:.1f}% apart")
            out.append(f"quick measured {len(runs['quick1']['data']['trials'])}"
                       f" of the {len(runs['brute']['data']['trials'])} points")
            bq, bq2 = best(runs["quick1"])[0], best(runs["quick2"])[0]
            out.append(f"quick 1 chose: {line(bq)}; quick 2 chose: {line(bq2)}"
                       f"; brute chose: {line(best(runs['brute'])[0])}")
    text = "\n".join(out) + "\n"
    print(text)
    path = os.path.join(ROOT, "bench", "results",
                        f"{datetime.date.today()}-tune.md")
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write("# serval tune: quick vs brute, wall time, overhead, "
                    "gain over the default\n\n`/usr/bin/python3 bench/tune.py`"
                    " (bench/tune.py says what each run is). Each run starts "
                    "its own serval on examples/models; serval, the load "
                    "generator and the search share the machine's 2 cores. "
                    "Runs are minutes apart on a shared machine: ratios "
                    "between runs carry that noise.\n")
        f.write(text)


if __name__ == "__main__":
    main()
