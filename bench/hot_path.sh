#!/usr/bin/env bash
# The request path's cost, measured in one run on this machine: serval (and,
# optionally, an earlier serval build for a before/after) serving the
# example identity and MLP models over HTTP JSON at 64 connections (wrk
# -t2), next to nginx returning the same fixed response, FastAPI + uvicorn
# with 1 and 2 workers on the same TorchScript file, and each backend alone
# (bench/offline) at its best batch. Also: server CPU per request, the time
# one batch takes inside the server, how long the model worker waited for a
# core (/proc schedstat), and gRPC against the binary tensor extension
# (serval perf). Writes bench/results/<date>-hot-path.md.
#
#   bench/hot_path.sh [--seconds N] [--rounds R] [--before BUILD_DIR]
#     --seconds  length of each measured window (default 5)
#     --rounds   windows per configuration; the median is reported (default 3)
#     --before   a build of an earlier serval (its serval and backends/), measured
#                in the same run
#   BUILD_DIR (default ./build) holds the serval under test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
SECONDS_PER_WINDOW=5
ROUNDS=3
BEFORE=""
COMMAND_LINE="bench/hot_path.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_WINDOW="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --before) BEFORE="$(cd "$2" && pwd)"; shift 2 ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "hot_path: wrk is not installed" >&2; exit 1; }
MODELS="$ROOT/examples/models"
[ -f "$MODELS/mlp_torch/1/model.pt" ] || "$ROOT/scripts/make_repository.sh" >/dev/null
source "$ROOT/bench/peers/peers.sh"
WORK="$PEER_WORK"
RES="$WORK/rows.txt"
: > "$RES"
SERVAL_PID=""
cleanup() {
  [ -n "$SERVAL_PID" ] && peer_stop "$SERVAL_PID"
  peer_stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "hot_path: $*" >&2; }
row() { echo "$*" >> "$RES"; }

# One KServe v2 JSON request per model (the same bytes for every server).
/usr/bin/python3 - "$WORK" <<'PY'
import json, random, sys
random.seed(7)
out = sys.argv[1]
for name, inp, n in (("identity", "INPUT0", 4), ("mlp_onnx", "input", 256),
                     ("mlp_torch", "INPUT__0", 256)):
    body = {"inputs": [{"name": inp, "shape": [1, n], "datatype": "FP32",
                        "data": [random.randrange(1024) / 1024 for _ in range(n)]}]}
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(body, f, separators=(",", ":"))
    with open(f"{out}/{name}.lua", "w") as f:
        f.write('wrk.method = "POST"\n'
                f'wrk.body = io.open("{out}/{name}.json"):read("*a")\n'
                'wrk.headers["Content-Type"] = "application/json"\n')
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime
# A thread's CPU time and run-queue wait (ns) from schedstat, by name.
thread_sched() {  # PID NAME-PREFIX
  local t
  for t in /proc/"$1"/task/*; do
    if [[ "$(cat "$t/comm" 2>/dev/null)" == "$2"* ]]; then
      awk '{print $1, $2}' "$t/schedstat"; return
    fi
  done
  echo "0 0"
}
stats_json() { curl -s "http://127.0.0.1:$1/v2/models/$2/stats"; }

# wrk for SECONDS_PER_WINDOW; prints requests/s, or 0 with non-2xx answers.
wrk_rps() {  # URL LUA
  wrk -t2 -c64 -d"${SECONDS_PER_WINDOW}s" -s "$2" "$1" > "$WORK/wrk.out" 2>&1 || true
  if grep -q "Non-2xx" "$WORK/wrk.out"; then echo 0; return; fi
  awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out"
}

start_serval() {  # LABEL BUILD -> SERVAL_PID S_HTTP S_GRPC
  S_HTTP="$(peer_free_port)"; S_GRPC="$(peer_free_port)"
  local metrics; metrics="$(peer_free_port)"
  "$2/serval" serve --model-repository "$MODELS" --backend-directory "$2/backends" \
    --http-port "$S_HTTP" --grpc-port "$S_GRPC" --metrics-port "$metrics" \
    --log-level warn > "$WORK/serval-$1.log" 2>&1 &
  SERVAL_PID=$!
  peer_wait_ready "http://127.0.0.1:$S_HTTP/v2/health/ready" "$SERVAL_PID" "$WORK/serval-$1.log"
}

# Serval rows: rps, CPU us per request, ms per batch and items per batch in
# the backend, and the model worker's run-queue wait per batch.
measure_serval() {  # LABEL BUILD
  local label="$1"
  start_serval "$label" "$2"
  local m
  for m in identity mlp_onnx mlp_torch; do
    local url="http://127.0.0.1:$S_HTTP/v2/models/$m/infer"
    wrk -t2 -c64 -d2s -s "$WORK/$m.lua" "$url" > /dev/null 2>&1 || true  # warm-up
    local r
    for r in $(seq 1 "$ROUNDS"); do
      local s0 c0 w0 s1 c1 w1 rps
      s0="$(stats_json "$S_HTTP" "$m")"; c0="$(cpu_ticks "$SERVAL_PID")"
      w0="$(thread_sched "$SERVAL_PID" "${m:0:11}/0")"
      rps="$(wrk_rps "$url" "$WORK/$m.lua")"
      s1="$(stats_json "$S_HTTP" "$m")"; c1="$(cpu_ticks "$SERVAL_PID")"
      w1="$(thread_sched "$SERVAL_PID" "${m:0:11}/0")"
      /usr/bin/python3 - "$label" "$m" "$rps" "$c0" "$c1" "$w0" "$w1" "$s0" "$s1" \
        "$(getconf CLK_TCK)" >> "$RES" <<'PY'
import json, sys
label, model, rps, c0, c1, w0, w1, s0, s1, hz = sys.argv[1:11]
a = json.loads(s0)["model_stats"][0]; b = json.loads(s1)["model_stats"][0]
def d(k, f): return int(b["inference_stats"][k][f]) - int(a["inference_stats"][k][f])
n = max(d("success", "count"), 1)
ex = max(int(b["execution_count"]) - int(a["execution_count"]), 1)
cpu_us = (int(c1) - int(c0)) * 1e6 / int(hz) / n
infer_ms = d("compute_infer", "ns") / n / 1e6  # per request = per batch
cpu0, wait0 = map(int, w0.split()); cpu1, wait1 = map(int, w1.split())
wait = (wait1 - wait0) / max(cpu1 - cpu0, 1) if cpu1 > cpu0 else 0
print(f"serval {label} {model} {rps} {cpu_us:.1f} {infer_ms:.3f} {n / ex:.1f} {wait:.2f}")
PY
    done
  done
  if [ "$label" = now ]; then
    local enc
    for enc in binary grpc; do
      local args=(-m mlp_onnx -u "127.0.0.1:$S_HTTP" --encoding binary)
      [ "$enc" = grpc ] && args=(-m mlp_onnx -i grpc -u "127.0.0.1:$S_GRPC")
      "$2/serval" perf --no-progress -p "$((SECONDS_PER_WINDOW * 1000))" -r "$ROUNDS" \
        --warmup 2 --concurrency-range 64 --json "$WORK/perf-$enc.json" "${args[@]}" \
        >> "$WORK/perf.log" 2>&1 || log "perf $enc failed"
      /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["steps"][0]; print("perf", sys.argv[2], s["throughput_rps"], s["latency_us"]["p99"])' \
        "$WORK/perf-$enc.json" "$enc" >> "$RES" 2>/dev/null || true
    done
  fi
  peer_stop "$SERVAL_PID"; SERVAL_PID=""
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "serval (this build)"
measure_serval now "$BUILD_DIR"
if [ -n "$BEFORE" ]; then
  log "serval (before: $BEFORE)"
  measure_serval before "$BEFORE"
fi

log "nginx fixed response"
start_serval probe "$BUILD_DIR"
curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$WORK/identity.json" \
  "http://127.0.0.1:$S_HTTP/v2/models/identity/infer" > "$WORK/identity_response.json"
peer_stop "$SERVAL_PID"; SERVAL_PID=""
peer_start_nginx_fixed "$WORK/identity_response.json"
for r in $(seq 1 "$ROUNDS"); do
  row "nginx - identity $(wrk_rps "http://127.0.0.1:$PEER_PORT/" "$WORK/identity.lua") 0 0 0 0"
done
peer_stop_all

# The Python peers get the BLAS and OpenMP settings serval's torch plugin
# uses, so that they run the same kernels (their best configuration).
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
grep -q avx512f /proc/cpuinfo || export OPENBLAS_CORETYPE=Haswell
for w in 1 2; do
  log "FastAPI, $w worker(s)"
  peer_start_fastapi "$MODELS/mlp_torch" "$w"
  url="http://127.0.0.1:$PEER_PORT/v2/models/mlp_torch/infer"
  wrk -t2 -c64 -d2s -s "$WORK/mlp_torch.lua" "$url" > /dev/null 2>&1 || true
  for r in $(seq 1 "$ROUNDS"); do
    row "fastapi w$w mlp_torch $(wrk_rps "$url" "$WORK/mlp_torch.lua") 0 0 0 0"
  done
  peer_stop_all
done
unset OPENBLAS_CORETYPE OMP_WAIT_POLICY

offline() {  # LABEL BUILD PLUGIN MODEL
  local so="$2/backends/$3/libserval_$3.so" bench="$2/bench/offline/serval_offline_bench"
  [ -x "$bench" ] && [ -f "$so" ] || { log "no offline bench in $2"; return; }
  "$bench" --plugin "$so" --model-dir "$MODELS/$4" --batch 1,8,16,32,64 \
    --seconds "$SECONDS_PER_WINDOW" 2>/dev/null | grep '^| ' \
    | awk -v l="$1" -v m="$4" -F'|' '{gsub(/ /,"",$4); gsub(/ /,"",$5); gsub(/ /,"",$6); print "offline", l, m, $4, $5, $6}' >> "$RES"
}
log "offline backends"
offline now "$BUILD_DIR" onnxruntime mlp_onnx
offline now "$BUILD_DIR" torch mlp_torch
[ -n "$BEFORE" ] && offline before "$BEFORE" torch mlp_torch
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

out="$ROOT/bench/results/$(date -u +%F)-hot-path.md"
mkdir -p "$(dirname "$out")"
/usr/bin/python3 "$ROOT/bench/hot_path_report.py" "$RES" "$COMMAND_LINE" \
  "$LOAD_BEFORE" "$LOAD_AFTER" "$SECONDS_PER_WINDOW" "$ROUNDS" > "$out"
cat "$out"
