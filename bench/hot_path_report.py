"""Turns the rows bench/hot_path.sh collected into its markdown report:
medians (and min-max) of the windows, and the ratios the report exists for.

  hot_path_report.py ROWS COMMAND LOAD_BEFORE LOAD_AFTER SECONDS ROUNDS
"""
import statistics
import sys
from collections import defaultdict


def main():
    rows_file, command, load_before, load_after, seconds, rounds = sys.argv[1:7]
    serval = defaultdict(list)   # (label, model) -> [(rps, cpu, infer, items, wait)]
    peers = defaultdict(list)    # (kind, variant) -> [rps]
    perf = {}                    # encoding -> (rps, p99 us)
    offline = defaultdict(dict)  # (label, model) -> {batch: items/s}
    for line in open(rows_file):
        f = line.split()
        if not f:
            continue
        if f[0] == "serval":
            serval[(f[1], f[2])].append(tuple(float(x) for x in f[3:8]))
        elif f[0] in ("nginx", "fastapi"):
            peers[(f[0], f[1])].append(float(f[3]))
        elif f[0] == "perf":
            perf[f[1]] = (float(f[2]), float(f[3]))
        elif f[0] == "offline":
            offline[(f[1], f[2])][int(f[3])] = float(f[4])

    def med(values):
        return statistics.median(values) if values else 0.0

    def spread(values):
        return f"{min(values):.0f}-{max(values):.0f}" if values else "-"

    def col(label, model, i):
        return [r[i] for r in serval.get((label, model), [])]

    def ratio(a, b):
        return f"{a / b:.2f}x" if a and b else "n/a"

    out = []
    w = out.append
    w("# Request path: serval against nginx, FastAPI and the backends alone")
    w("")
    w(f"- command: `{command}`; {rounds} windows of {seconds} s per "
      "configuration after a 2 s warm-up; medians, with the min-max of the "
      "windows")
    w(f"- load average (1/5/15 min) before: {load_before}; after: {load_after}")
    w("- client: wrk -t2 -c64 on the same 2 cores, HTTP/1.1 keep-alive, KServe "
      "v2 JSON bodies (identity: 4 x FP32; MLP: 256 x FP32)")
    w("- \"now\" is this build; \"before\" (when measured) an earlier build "
      "given with --before, measured in the same run")
    w("")
    w("| server | model | req/s (median) | min-max | server CPU us/req | "
      "ms per batch in the backend | items per batch | worker run-queue wait "
      "/ CPU |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label in ("before", "now"):
        for model in ("identity", "mlp_onnx", "mlp_torch"):
            rps = col(label, model, 0)
            if not rps:
                continue
            wait = med(col(label, model, 4))
            w(f"| serval ({label}) | {model} | {med(rps):.0f} | {spread(rps)} | "
              f"{med(col(label, model, 1)):.1f} | {med(col(label, model, 2)):.3f} | "
              f"{med(col(label, model, 3)):.1f} | "
              f"{f'{wait:.2f}' if wait else 'n/a'} |")
    for (kind, variant), rps in sorted(peers.items()):
        name = "nginx, fixed response" if kind == "nginx" else f"FastAPI + uvicorn, {variant[1:]} worker(s)"
        model = "identity" if kind == "nginx" else "mlp_torch"
        w(f"| {name} | {model} | {med(rps):.0f} | {spread(rps)} | | | | |")
    w("")
    if offline:
        w("Backends alone (bench/offline: one instance, batches back to back):")
        w("")
        w("| build | model | " + " | ".join(f"batch {b}" for b in (1, 8, 16, 32, 64)) + " |")
        w("| --- | --- |" + " ---: |" * 5)
        for (label, model), by_batch in sorted(offline.items()):
            w(f"| {label} | {model} | " + " | ".join(
                f"{by_batch.get(b, 0):.0f}" for b in (1, 8, 16, 32, 64)) + " |")
        w("")

    nginx = med(peers.get(("nginx", "-"), []))
    fastapi = max(med(peers.get(("fastapi", "w1"), [])),
                  med(peers.get(("fastapi", "w2"), [])))
    w("## Ratios")
    w("")
    w("| figure | before | now |")
    w("| --- | ---: | ---: |")
    w(f"| identity: serval / nginx fixed response | "
      f"{ratio(med(col('before', 'identity', 0)), nginx)} | "
      f"{ratio(med(col('now', 'identity', 0)), nginx)} |")
    for model in ("mlp_onnx", "mlp_torch"):
        best_now = max(offline.get(("now", model), {0: 0}).values())
        best_before = max(offline.get(("before", model), {0: 0}).values() or [0])
        w(f"| {model} over HTTP JSON / the same backend alone at its best batch | "
          f"{ratio(med(col('before', model, 0)), best_before or best_now)} | "
          f"{ratio(med(col('now', model, 0)), best_now)} |")
    w(f"| mlp_torch: serval / FastAPI (best of 1 and 2 workers) | "
      f"{ratio(med(col('before', 'mlp_torch', 0)), fastapi)} | "
      f"{ratio(med(col('now', 'mlp_torch', 0)), fastapi)} |")
    for model in ("identity", "mlp_onnx", "mlp_torch"):
        b, n = med(col("before", model, 1)), med(col("now", model, 1))
        if n:
            w(f"| {model}: server CPU per request (us) | "
              f"{f'{b:.1f}' if b else 'n/a'} | {n:.1f} |")
    if "grpc" in perf and "binary" in perf:
        w(f"| mlp_onnx, serval perf at c=64: gRPC / HTTP binary | | "
          f"{ratio(perf['grpc'][0], perf['binary'][0])} "
          f"({perf['grpc'][0]:.0f} vs {perf['binary'][0]:.0f} req/s) |")
    w("")
    w("The before column of the MLP-vs-offline rows divides by the earlier "
      "build's offline figure when one was measured (its torch plugin ran "
      "OpenBLAS's SSE3 kernels), else by this build's.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
