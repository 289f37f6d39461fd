#!/usr/bin/env bash
# What tracing costs a request: the example identity model over HTTP
# (binary tensors, 16 in flight, serval perf) with tracing off, on for one
# request in 1000, and on for every request, switched at run time on one
# server and interleaved over ROUNDS rounds; with --before, also an earlier
# build (one without tracing) on a server of its own, idle while the other
# is measured. Prints a markdown table of the median throughput and p99 per
# setting and the ratio to "off".
#
#   bench/trace_cost.sh [--rounds 3] [--seconds 5] [--before BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ROUNDS=3
SECONDS_PER_WINDOW=5
BEFORE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_WINDOW="$2"; shift 2 ;;
    --before) BEFORE="$(cd "$2" && pwd)"; shift 2 ;;
    *) sed -n '2,11p' "$0" >&2; exit 2 ;;
  esac
done
[ -f "$ROOT/examples/models/identity/config.pbtxt" ] || "$ROOT/scripts/make_repository.sh" >/dev/null
WORK="$(mktemp -d)"
mkdir -p "$WORK/repo"
ln -s "$ROOT/examples/models/identity" "$WORK/repo/identity"
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(port); GRPC=$(port); METRICS=$(port)
"$BUILD_DIR/serval" serve --model-repository "$WORK/repo" --http-port "$HTTP" \
  --grpc-port "$GRPC" --metrics-port "$METRICS" --log-level warn \
  --trace-config "file=$WORK/trace.json" > "$WORK/serval.log" 2>&1 &
PID=$!
OLD_PID=""
trap 'kill $PID $OLD_PID 2>/dev/null; wait $PID $OLD_PID 2>/dev/null; rm -rf "$WORK"' EXIT
OLD_HTTP=$(port)
if [ -n "$BEFORE" ]; then
  "$BEFORE/serval" serve --model-repository "$WORK/repo" --http-port "$OLD_HTTP" \
    --grpc-port "$(port)" --metrics-port "$(port)" --log-level warn \
    --backend-directory "$BEFORE/backends" > "$WORK/before.log" 2>&1 &
  OLD_PID=$!
fi
for p in "$HTTP" ${BEFORE:+"$OLD_HTTP"}; do
  for _ in $(seq 100); do
    curl -sf "127.0.0.1:$p/v2/health/ready" >/dev/null && break; sleep 0.1
  done
done
setting() {
  curl -sf -XPOST "127.0.0.1:$HTTP/v2/trace/setting" -d "$1" >/dev/null
}
declare -A SETTINGS=(
  [off]='{"trace_level":["OFF"]}'
  [rate_1000]='{"trace_level":["TIMESTAMPS"],"trace_rate":"1000","trace_count":"-1"}'
  [rate_1]='{"trace_level":["TIMESTAMPS"],"trace_rate":"1","trace_count":"-1"}'
)
ORDER=(off rate_1000 rate_1)
[ -n "$BEFORE" ] && ORDER=(before "${ORDER[@]}")
: > "$WORK/rows"
for round in $(seq "$ROUNDS"); do
  for s in "${ORDER[@]}"; do
    target=$HTTP
    if [ "$s" = before ]; then target=$OLD_HTTP; else setting "${SETTINGS[$s]}"; fi
    "$BUILD_DIR/serval" perf -m identity -u "127.0.0.1:$target" --encoding binary \
      --concurrency-range 16 -p $((SECONDS_PER_WINDOW * 1000)) -r 1 --warmup 1 \
      --no-progress --json "$WORK/out.json" >/dev/null 2>&1
    /usr/bin/python3 - "$s" "$WORK/out.json" >> "$WORK/rows" <<'PY'
import json, sys
d = json.load(open(sys.argv[2]))
step = d["steps"][0]
print(sys.argv[1], step["throughput_rps"], step["latency_us"]["p99"])
PY
  done
done
setting "${SETTINGS[off]}"
echo "| tracing | req/s (median of $ROUNDS) | vs off | p99 us |"
echo "| --- | --- | --- | --- |"
/usr/bin/python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    s, rps, p99 = line.split()
    rows.setdefault(s, []).append((float(rps), float(p99)))
off = statistics.median(r for r, _ in rows["off"])
for s in ("before", "off", "rate_1000", "rate_1"):
    if s not in rows:
        continue
    rps = statistics.median(r for r, _ in rows[s])
    p99 = statistics.median(p for _, p in rows[s])
    print(f"| {s} | {rps:.0f} | {rps / off:.2f}x | {p99:.0f} |")
PY
