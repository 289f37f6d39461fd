"""Turns the results of bench/compare.sh (serval perf JSON files, facts.txt,
the offline rows) into the markdown written to bench/results/.

    /usr/bin/python3 bench/compare_report.py RESULTS_DIR > report.md
"""

import json
import os
import sys

RES = sys.argv[1]


def facts():
    out = {}
    path = os.path.join(RES, "facts.txt")
    if os.path.exists(path):
        for line in open(path):
            key, _, value = line.rstrip("\n").partition("=")
            out[key] = value
    return out


F = facts()


def step(key):
    path = os.path.join(RES, key + ".json")
    if not os.path.exists(path):
        return None
    steps = json.load(open(path)).get("steps", [])
    return steps[0] if steps else None


def num(x, fmt="{:.1f}"):
    return "n/a" if x is None else fmt.format(x)


def ratio(a, b, fmt="{:.2f}"):
    if a is None or b is None or b == 0:
        return "n/a"
    return fmt.format(a / b)


def rps(s):
    return None if s is None else s["throughput_rps"]


def p99_ms(s):
    return None if s is None else s["latency_us"]["p99"] / 1000


def p50_ms(s):
    return None if s is None else s["latency_us"]["p50"] / 1000


def p90_ms(s):
    return None if s is None else s["latency_us"]["p90"] / 1000


def errors(s):
    if s is None:
        return "n/a"
    if s["errors"] == 0:
        return "0"
    return ", ".join(f"{k}: {v}" for k, v in s["errors_by_code"].items())


def note(s):
    if s is None:
        return "missing"
    bits = [f"{s['windows']} windows, spread {s['throughput_spread_pct']:.1f}%"]
    if not s["stable"]:
        bits.append("not stable")
    return "; ".join(bits)


def server_cols(s):
    srv = None if s is None else s.get("server_us")
    if not srv:
        return "-", "-", "-"
    return (f"{srv['queue']:.0f}", f"{srv['compute_infer']:.0f}",
            f"{srv['avg_batch']:.2f}")


def row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def section_a(lines):
    lines += ["## A. Small model (mlp), HTTP JSON, closed loop", "",
              "serval serves `mlp_onnx` (ONNX Runtime) and `mlp_torch` (the "
              "TorchScript file the Python peers load); the Python peers run "
              "torch in the handler (no ONNX Runtime for Python on Debian "
              "bookworm).", "",
              row(["server", "conc", "req/s", "p50 ms", "p90 ms", "p99 ms",
                   "queue us", "infer us", "avg batch", "errors", "windows"]),
              row(["---"] * 11)]
    names = [("serval_onnx", "serval (ORT)"), ("serval_torch", "serval (torch)"),
             ("fastapi", "FastAPI+uvicorn 1 worker"),
             ("flask", "Flask+gunicorn 1x4"),
             ("gunicorn_nginx", "gunicorn 2 workers + nginx")]
    for c in (1, 8, 64):
        for key, label in names:
            s = step(f"A_{key}_c{c}")
            if s is None:
                continue
            q, inf, b = server_cols(s)
            lines.append(row([label, c, num(rps(s)), num(p50_ms(s), "{:.2f}"),
                              num(p90_ms(s), "{:.2f}"), num(p99_ms(s), "{:.2f}"),
                              q, inf, b, errors(s), note(s)]))
    lines += ["", "Ratios (serval / peer; goal at c=64: RPS >= 20x FastAPI, "
              "p99 <= 0.1x):", "",
              row(["conc", "peer", "RPS ratio (ORT)", "p99 ratio (ORT)",
                   "RPS ratio (torch)", "p99 ratio (torch)"]),
              row(["---"] * 6)]
    for c in (1, 8, 64):
        so, st = step(f"A_serval_onnx_c{c}"), step(f"A_serval_torch_c{c}")
        for key, label in names[2:]:
            p = step(f"A_{key}_c{c}")
            if p is None:
                continue
            lines.append(row([c, label, ratio(rps(so), rps(p)),
                              ratio(p99_ms(so), p99_ms(p), "{:.3f}"),
                              ratio(rps(st), rps(p)),
                              ratio(p99_ms(st), p99_ms(p), "{:.3f}")]))
    json64 = step("A_serval_onnx_c64")
    lines += ["", "Other protocols, serval mlp_onnx, concurrency 64 (ratio to "
              "HTTP JSON):", "",
              row(["protocol", "req/s", "p99 ms", "ratio"]), row(["---"] * 4),
              row(["HTTP JSON", num(rps(json64)), num(p99_ms(json64), "{:.2f}"), "1.00"])]
    for key, label in (("binary", "HTTP binary tensors"), ("grpc", "gRPC")):
        s = step(f"A_serval_onnx_{key}_c64")
        lines.append(row([label, num(rps(s)), num(p99_ms(s), "{:.2f}"),
                          ratio(rps(s), rps(json64))]))
    lines.append("")


def section_b(lines):
    s, n = step("B_serval_identity_c64"), step("B_nginx_c64")
    lines += ["## B. Overhead: identity model vs nginx fixed response, concurrency 64", "",
              row(["server", "req/s (serval perf)", "p99 ms", "req/s (wrk -t2)", "errors"]),
              row(["---"] * 5),
              row(["serval identity", num(rps(s)), num(p99_ms(s), "{:.2f}"),
                   F.get("wrk_serval_rps", "n/a"), errors(s)]),
              row(["nginx fixed response", num(rps(n)), num(p99_ms(n), "{:.2f}"),
                   F.get("wrk_nginx_rps", "n/a"), errors(n)]),
              "",
              f"serval / nginx (serval perf) = **{ratio(rps(s), rps(n))}** (goal >= 0.4); "
              f"with wrk: **{ratio(_f('wrk_serval_rps'), _f('wrk_nginx_rps'))}**.", ""]
    ws = _f("wrk_serval_rps")
    if ws and s:
        diff = (rps(s) - ws) / ws * 100
        lines += [f"Cross-check: serval perf / wrk on serval = {rps(s) / ws:.2f} "
                  f"({diff:+.1f}%; must stay within 10%). The two clients "
                  "share the 2 cores with the server, so the cheaper client "
                  "leaves more CPU to the server.", ""]


def _f(key):
    try:
        return float(F[key])
    except (KeyError, ValueError):
        return None


def section_c(lines):
    s = step("C_serval_resnet50_c16")
    lines += ["## C. Compute-bound: resnet50 (ONNX Runtime), concurrency 16", ""]
    best = None
    path = os.path.join(RES, "C_offline.md")
    rows = open(path).read().splitlines() if os.path.exists(path) else []
    if rows:
        lines += ["Offline loop (serval_offline_bench, same plugin and file, no server):", "",
                  "| backend | model | batch | items/s | ms/batch | batches |",
                  "| --- | --- | --- | --- | --- | --- |"] + rows + [""]
        for r in rows:
            cells = [c.strip() for c in r.strip("|").split("|")]
            try:
                v = float(cells[3])
            except (IndexError, ValueError):
                continue
            if best is None or v > best[0]:
                best = (v, cells[2])
    lines += [row(["", "inferences/s", "p50 ms", "p99 ms", "avg batch", "errors"]),
              row(["---"] * 6)]
    q, inf, b = server_cols(s)
    lines.append(row(["serval c=16", num(rps(s), "{:.2f}"), num(p50_ms(s), "{:.0f}"),
                      num(p99_ms(s), "{:.0f}"), b, errors(s)]))
    if best:
        lines.append(row([f"offline best (batch {best[1]})", f"{best[0]:.2f}", "", "", best[1], ""]))
    lines += ["", f"serval / offline best batch = **{ratio(rps(s), best[0] if best else None)}** "
              "(goal >= 0.95).", ""]


def section_d(lines):
    lines += ["## D. Memory: 1 vs 4 instances (serval, resnet50 ORT) and 1 vs 4 "
              "workers (gunicorn + Flask, resnet50 TorchScript)", "",
              "Measured after a short load at concurrency 8 (so instances have "
              "run); RSS summed over the process tree, PSS counts shared pages once.", "",
              row(["server", "RSS 1 (MB)", "RSS 4 (MB)", "RSS ratio", "PSS 1 (MB)",
                   "PSS 4 (MB)", "PSS ratio"]), row(["---"] * 7)]
    for who, label in (("serval", "serval 1 vs 4 instances"),
                       ("gunicorn", "gunicorn 1 vs 4 workers")):
        r1, r4 = _f(f"D_{who}_rss_kb_1"), _f(f"D_{who}_rss_kb_4")
        p1, p4 = _f(f"D_{who}_pss_kb_1"), _f(f"D_{who}_pss_kb_4")
        mb = lambda v: "n/a" if v is None else f"{v / 1024:.0f}"
        lines.append(row([label, mb(r1), mb(r4), ratio(r4, r1), mb(p1), mb(p4), ratio(p4, p1)]))
    lines += ["", "Goal: serval RSS with 4 instances <= 1.1x one instance.", ""]


def section_e(lines):
    lines += ["## E. Overload: open loop (Poisson) at 2x the saturation rate, HTTP JSON", "",
              row(["model", "saturation req/s", "offered req/s", "goodput req/s",
                   "goodput / saturation", "p50 ms (successes)", "p99 ms (successes)",
                   "errors", "errors other than 503", "client send lag avg / max ms"]),
              row(["---"] * 10)]
    seconds = None
    for key, label, sat_key, rate_key in (
            ("E_overload", "mlp_onnx (sat.: c=64, same client priority)", "overload_saturation_rps", "overload_rate"),
            ("E_overload_resnet", "resnet50_onnx (sat.: c=16)",
             "overload_resnet_saturation_rps", "overload_resnet_rate")):
        s, sat = step(key), _f(sat_key)
        if s is None:
            continue
        seconds = s["seconds"]
        non_fast = sum(v for k, v in s["errors_by_code"].items() if k != "HTTP 503")
        client = s["client_us"]
        lines.append(row([label, num(sat), F.get(rate_key, "n/a"), num(rps(s)),
                          f"**{ratio(rps(s), sat)}**", num(p50_ms(s), "{:.2f}"),
                          num(p99_ms(s), "{:.2f}"), errors(s), f"**{non_fast}**",
                          f"{client.get('send_lag_avg', 0) / 1000:.1f} / "
                          f"{client.get('send_lag_max', 0) / 1000:.1f}"]))
    lines += ["", f"Window {num(seconds, '{:.0f}')} s. Latency counts from the scheduled send "
              "time (no coordinated omission), so a client that falls behind its "
              "schedule (send lag) inflates it: a large lag means the client, sharing "
              "the cores, could not offer the rate, and the row measures the machine, "
              "not serval alone. Goal: goodput >= 0.95x saturation, and no errors "
              "other than fast 503 rejections.", ""]


def main():
    lines = [f"# serval vs peers ({F.get('started', '?')})", "",
             f"- command: `{F.get('command', 'bench/compare.sh')}`"
             + (" (**quick mode: 1 s windows, a smoke run, not figures**)"
                if F.get("quick") == "1" else ""),
             *([f"- **incomplete run: {F['incomplete']}**"] if "incomplete" in F else []),
             f"- machine: {F.get('machine', '?')}; load average before "
             f"{F.get('load_before', '?')}, after {F.get('load_after', '?')} "
             "(other jobs share this machine: absolute figures are indicative, "
             "ratios are the result)",
             "- client: `serval perf` for every server (1 io thread), same "
             "request bytes; latency from request start, windows repeated "
             "until 3 agree (or the cap), median window reported",
             f"- serval RSS after scenario A: {_mb(_f('serval_rss_kb_after_A'))}, "
             f"after E: {_mb(_f('serval_rss_kb_after_E'))}",
             ""]
    for section in (section_a, section_b, section_c, section_d, section_e):
        section(lines)
    print("\n".join(lines))


def _mb(v):
    return "n/a" if v is None else f"{v / 1024:.0f} MB"


if __name__ == "__main__":
    main()
