#!/usr/bin/env bash
# What an ensemble step costs beyond the model it runs: `simple` (one ONNX
# Runtime call) against `simple_chain` (an ensemble running simple twice),
# over HTTP with binary tensors (serval perf), at 1 and 16 requests in
# flight, interleaved over ROUNDS rounds on one server. Prints a markdown
# table of medians; with one request in flight, chain p50 against 2 x
# simple p50 compares the ensemble with a client sending the two requests
# itself.
#
#   bench/ensemble_overhead.sh [--rounds 3] [--seconds 5]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ROUNDS=3
SECONDS_PER_WINDOW=5
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_WINDOW="$2"; shift 2 ;;
    *) sed -n '2,10p' "$0" >&2; exit 2 ;;
  esac
done
[ -f "$ROOT/examples/models/simple_chain/config.pbtxt" ] || "$ROOT/scripts/make_repository.sh" >/dev/null
WORK="$(mktemp -d)"
mkdir -p "$WORK/repo"
for m in simple simple_chain; do ln -s "$ROOT/examples/models/$m" "$WORK/repo/$m"; done
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(port)
"$BUILD_DIR/serval" serve --model-repository "$WORK/repo" --http-port "$HTTP" \
  --grpc-port "$(port)" --metrics-port "$(port)" --log-level warn \
  > "$WORK/serval.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
  curl -sf "127.0.0.1:$HTTP/v2/health/ready" >/dev/null && break; sleep 0.1
done
: > "$WORK/rows"
for round in $(seq "$ROUNDS"); do
  for c in 1 16; do
    for m in simple simple_chain; do
      "$BUILD_DIR/serval" perf -m "$m" -u "127.0.0.1:$HTTP" --encoding binary \
        --concurrency-range "$c" -p $((SECONDS_PER_WINDOW * 1000)) -r 1 \
        --warmup 1 --no-progress --json "$WORK/out.json" >/dev/null 2>&1
      /usr/bin/python3 - "$m" "$c" "$WORK/out.json" >> "$WORK/rows" <<'PY'
import json, sys
step = json.load(open(sys.argv[3]))["steps"][0]
print(sys.argv[1], sys.argv[2], step["throughput_rps"],
      step["latency_us"]["p50"], step["latency_us"]["p99"])
PY
    done
  done
done
echo "| model | in flight | req/s (median of $ROUNDS) | p50 us | p99 us |"
echo "| --- | --- | --- | --- | --- |"
/usr/bin/python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m, c, rps, p50, p99 = line.split()
    rows.setdefault((m, int(c)), []).append((float(rps), float(p50), float(p99)))
med = {k: [statistics.median(x[i] for x in v) for i in range(3)]
       for k, v in rows.items()}
for (m, c), (rps, p50, p99) in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"| {m} | {c} | {rps:.0f} | {p50:.0f} | {p99:.0f} |")
one, chain = med[("simple", 1)], med[("simple_chain", 1)]
print(f"\nOne in flight: simple_chain p50 {chain[1]:.0f} us against two "
      f"requests to simple {2 * one[1]:.0f} us ({chain[1] / (2 * one[1]):.2f}x).")
for c in (1, 16):
    s, e = med[("simple", c)][0], med[("simple_chain", c)][0]
    print(f"{c} in flight: simple_chain serves {e / s:.2f}x the requests of "
          f"simple (a chain of two does twice the model work).")
PY
