#!/usr/bin/env bash
# Batching and protocols: the MLP over HTTP JSON at concurrency 1/8/64,
# with and without dynamic batching and with 1 or 2 instances; then the MLP
# and identity models over HTTP JSON, HTTP binary and gRPC at concurrency 64.
# All configurations are served by one serval on free loopback ports, measured
# with `serval perf` in the same run; writes bench/results/<date>-batching.md.
#   bench/batching.sh [--window-ms 3000]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
WINDOW_MS=3000
[ "${1:-}" = "--window-ms" ] && WINDOW_MS="$2"
SERVAL="$BUILD_DIR/serval"
MODELS="$ROOT/examples/models"
OUT="$ROOT/bench/results/$(date -u +%Y-%m-%d)-batching.md"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# mlp_<batching>_<instances>: the same ONNX file under four configurations.
repo="$work/repo"
for batching in on off; do
  for n in 1 2; do
    name="mlp_${batching}_${n}"
    mkdir -p "$repo/$name/1"
    ln -s "$MODELS/mlp_onnx/1/model.onnx" "$repo/$name/1/model.onnx"
    {
      echo "name: \"$name\""
      echo 'platform: "onnxruntime_onnx"'
      echo 'max_batch_size: 32'
      echo "instance_group [ { count: $n kind: KIND_CPU } ]"
      [ "$batching" = on ] && echo 'dynamic_batching { }'
    } > "$repo/$name/config.pbtxt"
  done
done
cp -r "$MODELS/identity" "$repo/identity"

http=$(free_port); grpc=$(free_port); metrics=$(free_port)
"$SERVAL" serve --model-repository "$repo" --backend-directory "$BUILD_DIR/backends" \
  --http-port "$http" --grpc-port "$grpc" --metrics-port "$metrics" \
  --log-level warn > "$work/serval.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -sf "127.0.0.1:$http/v2/health/ready" >/dev/null && break
  sleep 0.2
done

perf() {  # perf MODEL CONC [extra args] -> "rps p99_ms avg_batch"
  local model="$1" conc="$2"; shift 2
  "$SERVAL" perf -m "$model" --concurrency-range "$conc" -p "$WINDOW_MS" -r 4 \
    --warmup 1 --no-progress --json "$work/r.json" "$@" >/dev/null 2>&1
  /usr/bin/python3 - "$work/r.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["steps"][0]
server = s.get("server_us") or {}
batch = server.get("avg_batch")
print("%.0f" % s["throughput_rps"], "%.2f" % (s["latency_us"]["p99"] / 1e3),
      "%.2f" % batch if batch is not None else "n/a")
PY
}

load="$(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "# Dynamic batching, instances and protocols ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "- command: \`bench/batching.sh --window-ms $WINDOW_MS\` (serval perf, windows of $WINDOW_MS ms until 3 agree, at most 4)"
  echo "- machine: $(nproc) CPUs, load average before: $load; client and server share the cores"
  echo
  echo "## MLP (ONNX Runtime), HTTP JSON"
  echo
  echo "| dynamic batching | instances | concurrency | req/s | p99 ms | avg batch |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for batching in on off; do
    for n in 1 2; do
      for c in 1 8 64; do
        read -r rps p99 batch < <(perf "mlp_${batching}_${n}" "$c" -u "127.0.0.1:$http")
        echo "| $batching | $n | $c | $rps | $p99 | $batch |"
      done
    done
  done
  echo
  echo "## Protocols at concurrency 64 (dynamic batching on, 1 instance for the MLP)"
  echo
  echo "| model | protocol | req/s | p99 ms |"
  echo "| --- | --- | --- | --- |"
  for model in mlp_on_1 identity; do
    read -r rps p99 _ < <(perf "$model" 64 -u "127.0.0.1:$http")
    echo "| $model | HTTP JSON | $rps | $p99 |"
    read -r rps p99 _ < <(perf "$model" 64 -u "127.0.0.1:$http" --encoding binary)
    echo "| $model | HTTP binary | $rps | $p99 |"
    read -r rps p99 _ < <(perf "$model" 64 -u "127.0.0.1:$grpc" -i grpc)
    echo "| $model | gRPC | $rps | $p99 |"
  done
  echo
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT"
cat "$OUT"
