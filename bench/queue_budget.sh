#!/usr/bin/env bash
# The queue's time budget under overload, on a model whose cost is known:
# the identity backend sleeping 20 ms per request (one instance, no
# batching: 50 requests/s at saturation), with and without
# queue_budget_ms=100, open loop Poisson at 1x, 2x, 4x and 10x saturation
# (serval perf, --latency-budget-ms 150: the budget plus one execution and
# slack). Prints one markdown table: throughput, goodput within 150 ms, p99
# of successes, refusals and their p99, other errors.
#
#   bench/queue_budget.sh [--seconds 5]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
SECONDS_PER_STEP=5
if [ "${1:-}" = "--seconds" ]; then SECONDS_PER_STEP="$2"; fi
WORK="$(mktemp -d)"
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
model() {  # NAME [BUDGET_MS]
  mkdir -p "$WORK/repo/$1/1"
  {
    echo "name: \"$1\""
    echo 'backend: "identity"'
    echo 'max_batch_size: 1'
    echo 'input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]'
    echo 'output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]'
    echo 'dynamic_batching { }'
    echo 'parameters { key: "delay_us" value { string_value: "20000" } }'
    if [ -n "${2:-}" ]; then
      echo "parameters { key: \"queue_budget_ms\" value { string_value: \"$2\" } }"
    fi
  } > "$WORK/repo/$1/config.pbtxt"
}
model count_bound
model time_bound 100
HTTP=$(port)
"$BUILD_DIR/serval" serve --model-repository "$WORK/repo" --http-port "$HTTP" \
  --grpc-port "$(port)" --metrics-port "$(port)" --log-level warn > "$WORK/serval.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
  curl -sf "127.0.0.1:$HTTP/v2/health/ready" >/dev/null && break; sleep 0.1
done
echo "| model | offered | req/s | goodput (<= 150 ms) | goodput / 50 | p99 of successes ms | refusals | refusal p99 ms | other errors | send lag max ms |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for m in count_bound time_bound; do
  for x in 1 2 4 10; do
    "$BUILD_DIR/serval" perf -m "$m" -u "127.0.0.1:$HTTP" \
      --request-rate-range $((50 * x)) --request-distribution poisson \
      -p $((SECONDS_PER_STEP * 1000)) -r 1 --warmup 2 --latency-budget-ms 150 \
      --no-progress --json "$WORK/out.json" >/dev/null 2>&1
    /usr/bin/python3 - "$m" "$x" "$WORK/out.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[3]))["steps"][0]
print(f"| {sys.argv[1]} | {sys.argv[2]}x | {s['throughput_rps']:.1f} | "
      f"{s['goodput_rps']:.1f} | {s['goodput_rps'] / 50:.2f} | "
      f"{s['latency_us']['p99'] / 1000:.1f} | {s['refusals']} | "
      f"{s['refusal_latency_us']['p99'] / 1000:.2f} | {s['other_errors']} | "
      f"{s['client_us']['send_lag_max'] / 1000:.1f} |")
PY
    # Let the count-bound queue drain before the next step.
    sleep 3
  done
done
