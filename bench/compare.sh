#!/usr/bin/env bash
# Side-by-side benchmark of serval against what users run instead (the
# peers of ../docs/benchmarking.md), every figure measured in the same run,
# on the same machine, with the same client (`serval perf`) and the same
# request. Runs the scenarios of BENCH.md that need no GPU:
#   A  mlp, HTTP JSON, concurrency 1/8/64: serval (ORT and TorchScript)
#      vs FastAPI, Flask+gunicorn 1x4, gunicorn 2 workers behind nginx;
#      serval HTTP binary and gRPC at 64
#   B  identity, concurrency 64: serval vs nginx fixed response; wrk
#      cross-checks serval perf on serval
#   C  resnet50 (ORT), concurrency 16: serval vs the offline loop's best batch
#   D  memory: serval 1 vs 4 instances of resnet50; gunicorn 1 vs 4 workers
#   E  overload: open loop (Poisson) at 2x serval's mlp saturation rate
# and writes bench/results/<date>-compare.md (absolute figures, ratios and
# this command line).
#
#   bench/compare.sh [--quick] [--only A,B,...]
#     --quick   1 s windows, short overload: a smoke run, not figures
#   BUILD_DIR     (default ./build) holds serval
#   BACKENDS_DIR  (default $BUILD_DIR/backends) the plugins
#   OFFLINE_BENCH (default $BUILD_DIR/bench/offline/serval_offline_bench)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMMAND_LINE="bench/compare.sh $*"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
BACKENDS_DIR="${BACKENDS_DIR:-$BUILD_DIR/backends}"
OFFLINE_BENCH="${OFFLINE_BENCH:-$BUILD_DIR/bench/offline/serval_offline_bench}"
SERVAL="$BUILD_DIR/serval"
QUICK=0
ONLY="A,B,C,D,E"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --only) ONLY="$2"; shift 2 ;;
    *) sed -n '2,22p' "$0" >&2; exit 2 ;;
  esac
done
want() { [[ ",$ONLY," == *",$1,"* ]]; }

NICE_CLIENT=""
if nice -n -10 true 2>/dev/null; then NICE_CLIENT="nice -n -10"; fi
if [ "$QUICK" = 1 ]; then
  WINDOW_MS=1000 TRIALS=3 WARMUP=0.5 RESNET_WINDOW_MS=5000 RESNET_TRIALS=1 RESNET_WARMUP=5
  OVERLOAD_S=5 OFFLINE_S=2 WRK_S=3 MEM_WINDOW_MS=1000
else
  WINDOW_MS=5000 TRIALS=5 WARMUP=2 RESNET_WINDOW_MS=15000 RESNET_TRIALS=3 RESNET_WARMUP=10
  OVERLOAD_S=30 OFFLINE_S=10 WRK_S=10 MEM_WINDOW_MS=5000
fi

for need in "$SERVAL" "$BACKENDS_DIR/identity/libserval_identity.so"; do
  [ -e "$need" ] || { echo "compare: $need is missing; build first" >&2; exit 1; }
done
MODELS="$ROOT/examples/models"
[ -f "$MODELS/mlp_torch/1/model.pt" ] || "$ROOT/scripts/make_repository.sh" >/dev/null

source "$ROOT/bench/peers/peers.sh"
WORK="$PEER_WORK"
RES="$WORK/results"
mkdir -p "$RES" "$WORK/inputs"
SERVAL_PID=""
SUFFIX=""
if [ "$QUICK" = 1 ]; then SUFFIX="-quick"; fi
OUT="$ROOT/bench/results/$(date -u +%F)-compare$SUFFIX.md"
REPORTED=0
STAGE="start"
report() {
  mkdir -p "$(dirname "$OUT")"
  /usr/bin/python3 "$ROOT/bench/compare_report.py" "$RES" > "$OUT"
  cp "$WORK/perf.log" "${OUT%.md}.perf.log" 2>/dev/null || true
  REPORTED=1
  log "wrote $OUT"
}
cleanup() {
  local rc=$?
  [ -n "$SERVAL_PID" ] && peer_stop "$SERVAL_PID"
  peer_stop_all
  # A run cut short still leaves what it measured, marked incomplete.
  if [ "$REPORTED" = 0 ] && [ -d "$RES" ]; then
    fact incomplete "stopped (exit $rc) during: $STAGE"
    report || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "compare: $*" >&2; STAGE="$*"; }
fact() { echo "$1=$2" >> "$RES/facts.txt"; }

fact started "$(date -u '+%F %H:%M UTC')"
fact command "$COMMAND_LINE"
fact quick "$QUICK"
fact nice_client "${NICE_CLIENT:-no}"
fact machine "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs"
fact load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

# One KServe v2 JSON request per model (random values, the same bytes for
# every server), from the model's config.pbtxt.
/usr/bin/python3 - "$MODELS" "$WORK/inputs" <<'PY'
import json, os, random, re, sys
models, out = sys.argv[1], sys.argv[2]
random.seed(7)
for m in ("identity", "mlp_onnx", "mlp_torch", "resnet50_onnx", "resnet50_torch"):
    path = os.path.join(models, m, "config.pbtxt")
    if not os.path.exists(path):
        continue
    text = open(path).read()
    block = text[text.index("input"):]
    name = re.search(r'name:\s*"([^"]+)"', block).group(1)
    dims = [int(d) for d in re.search(r"dims:\s*\[([^\]]*)\]", block).group(1).split(",")]
    batching = int(re.search(r"max_batch_size:\s*(\d+)", text).group(1)) > 0
    shape = ([1] if batching else []) + dims
    n = 1
    for d in shape:
        n *= d
    data = [random.randrange(1024) / 1024 for _ in range(n)]
    with open(os.path.join(out, m + ".json"), "w") as f:
        json.dump({"inputs": [{"name": name, "shape": shape, "datatype": "FP32",
                               "data": data}]}, f, separators=(",", ":"))
PY

# serval perf with the run's windows; KEY names the JSON result.
perf() {  # KEY PERF-ARGS...
  local key="$1"; shift
  log "perf $key: $*"
  if ! "$SERVAL" perf --no-progress -p "$WINDOW_MS" -r "$TRIALS" --warmup "$WARMUP" \
      --json "$RES/$key.json" "$@" >>"$WORK/perf.log" 2>&1; then
    log "perf $key failed:"; tail -5 "$WORK/perf.log" >&2
  fi
}

start_serval() {  # REPO -> SERVAL_PID, S_HTTP, S_GRPC
  S_HTTP="$(peer_free_port)"; S_GRPC="$(peer_free_port)"
  local metrics; metrics="$(peer_free_port)"
  "$SERVAL" serve --model-repository "$1" --backend-directory "$BACKENDS_DIR" \
    --http-port "$S_HTTP" --grpc-port "$S_GRPC" --metrics-port "$metrics" \
    --log-level warn >"$WORK/serval-$(basename "$1").log" 2>&1 &
  SERVAL_PID=$!
  peer_wait_ready "http://127.0.0.1:$S_HTTP/v2/health/ready" "$SERVAL_PID" \
    "$WORK/serval-$(basename "$1").log"
}
stop_serval() { peer_stop "$SERVAL_PID"; SERVAL_PID=""; }

make_repo() {  # DIR INSTANCES MODEL...
  local dir="$1" count="$2" m; shift 2
  mkdir -p "$dir"
  for m in "$@"; do
    [ -d "$MODELS/$m" ] || continue
    mkdir -p "$dir/$m"
    ln -s "$MODELS/$m/1" "$dir/$m/1"
    sed "s/count: *[0-9]*/count: $count/" "$MODELS/$m/config.pbtxt" > "$dir/$m/config.pbtxt"
  done
}
make_repo "$WORK/repo" 1 identity mlp_onnx mlp_torch resnet50_onnx
S_URL() { echo "127.0.0.1:$S_HTTP"; }
IN="$WORK/inputs"

if want A || want B || want C || want E; then
  start_serval "$WORK/repo"
fi

if want A; then
  for c in 1 8 64; do
    perf "A_serval_onnx_c$c" -m mlp_onnx -u "$(S_URL)" --input-data "$IN/mlp_onnx.json" --concurrency-range $c
    perf "A_serval_torch_c$c" -m mlp_torch -u "$(S_URL)" --input-data "$IN/mlp_torch.json" --concurrency-range $c
  done
  perf A_serval_onnx_binary_c64 -m mlp_onnx -u "$(S_URL)" --encoding binary --concurrency-range 64
  perf A_serval_onnx_grpc_c64 -m mlp_onnx -i grpc -u "127.0.0.1:$S_GRPC" --concurrency-range 64
  fact serval_rss_kb_after_A "$(peer_rss_kb "$SERVAL_PID")"
  for peer in fastapi flask gunicorn_nginx; do
    case "$peer" in
      fastapi) peer_start_fastapi "$MODELS/mlp_torch" ;;
      flask) peer_start_gunicorn "$MODELS/mlp_torch" 1 4 ;;
      gunicorn_nginx) peer_start_gunicorn_nginx "$MODELS/mlp_torch" 2 ;;
    esac
    for c in 1 8 64; do
      perf "A_${peer}_c$c" -m mlp_torch -u "127.0.0.1:$PEER_PORT" --no-server-stats \
        --input-data "$IN/mlp_torch.json" --concurrency-range $c
    done
    peer_stop_all
  done
fi

if want B; then
  perf B_serval_identity_c64 -m identity -u "$(S_URL)" --input-data "$IN/identity.json" --concurrency-range 64
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$IN/identity.json" \
    "http://$(S_URL)/v2/models/identity/infer" > "$WORK/identity_response.json"
  peer_start_nginx_fixed "$WORK/identity_response.json"
  NGINX_PORT="$PEER_PORT"
  perf B_nginx_c64 -m identity -u "127.0.0.1:$NGINX_PORT" --no-server-stats \
    --input-data "$IN/identity.json" --concurrency-range 64
  if command -v wrk >/dev/null; then
    body="$(cat "$IN/identity.json")"
    printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' \
      "$body" > "$WORK/post.lua"
    for target in serval nginx; do
      url="http://$(S_URL)/v2/models/identity/infer"
      [ "$target" = nginx ] && url="http://127.0.0.1:$NGINX_PORT/v2/models/identity/infer"
      log "wrk $target"
      wrk -t2 -c64 -d"${WRK_S}s" -s "$WORK/post.lua" "$url" > "$WORK/wrk-$target.txt" 2>&1 || true
      fact "wrk_${target}_rps" "$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk-$target.txt")"
      fact "wrk_${target}_non2xx" "$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk-$target.txt")"
    done
  fi
  peer_stop_all
fi

if want C; then
  "$SERVAL" perf --no-progress -p "$RESNET_WINDOW_MS" -r "$RESNET_TRIALS" --warmup "$RESNET_WARMUP" \
    --json "$RES/C_serval_resnet50_c16.json" -m resnet50_onnx -u "$(S_URL)" \
    --input-data "$IN/resnet50_onnx.json" --concurrency-range 16 >>"$WORK/perf.log" 2>&1 \
    || log "resnet50 perf failed"
  if [ -x "$OFFLINE_BENCH" ] && [ -f "$BACKENDS_DIR/onnxruntime/libserval_onnxruntime.so" ]; then
    log "offline resnet50_onnx"
    # The same model file, one instance, batch sizes up to the config's
    # max_batch_size (the largest batch serval may form).
    "$OFFLINE_BENCH" --plugin "$BACKENDS_DIR/onnxruntime/libserval_onnxruntime.so" \
      --model-dir "$MODELS/resnet50_onnx" --batch 1,8,16 --seconds "$OFFLINE_S" \
      2>/dev/null | grep '^| ' > "$RES/C_offline.md" || log "offline bench failed"
  else
    log "offline bench or ORT plugin missing; skipping the offline ceiling"
  fi
fi

if want E; then
  # Saturation and overload are both measured with the client at the same
  # priority (see NICE_CLIENT): on shared cores the client's CPU share sets
  # what the server gets.
  $NICE_CLIENT "$SERVAL" perf --no-progress -p "$WINDOW_MS" -r "$TRIALS" --warmup "$WARMUP" \
    --json "$RES/E_saturation.json" -m mlp_onnx -u "$(S_URL)" \
    --input-data "$IN/mlp_onnx.json" --concurrency-range 64 >>"$WORK/perf.log" 2>&1 \
    || log "saturation perf failed"
  sat="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"][0]["throughput_rps"])' \
        "$RES/E_saturation.json" 2>/dev/null || echo 0)"
  rate="$(awk -v s="$sat" 'BEGIN { printf "%.0f", 2 * s }')"
  fact overload_saturation_rps "$sat"
  fact overload_rate "$rate"
  log "overload at $rate/s for ${OVERLOAD_S}s"
  # The open-loop client must be able to offer the rate while the server
  # is saturated on the same cores: it runs at a higher priority where the
  # machine allows (the load stands for clients on other machines).
  $NICE_CLIENT "$SERVAL" perf --no-progress -p "$((OVERLOAD_S * 1000))" -r 1 --warmup "$WARMUP" \
    --max-connections 1024 --json "$RES/E_overload.json" -m mlp_onnx -u "$(S_URL)" \
    --input-data "$IN/mlp_onnx.json" --request-rate-range "$rate" \
    --request-distribution poisson >>"$WORK/perf.log" 2>&1 || log "overload perf failed"
  # The same on resnet50, where the server's work per request dwarfs the
  # client's: on 2 shared cores the mlp case above can be client-bound
  # (see the send lag in the report).
  rsat="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"][0]["throughput_rps"])' \
         "$RES/C_serval_resnet50_c16.json" 2>/dev/null || echo "")"
  if [ -n "$rsat" ]; then
    rrate="$(awk -v s="$rsat" 'BEGIN { printf "%.2f", 2 * s }')"
    fact overload_resnet_saturation_rps "$rsat"
    fact overload_resnet_rate "$rrate"
    log "resnet50 overload at $rrate/s for ${OVERLOAD_S}s"
    $NICE_CLIENT "$SERVAL" perf --no-progress -p "$((OVERLOAD_S * 1000))" -r 1 --warmup "$RESNET_WARMUP" \
      --json "$RES/E_overload_resnet.json" -m resnet50_onnx -u "$(S_URL)" \
      --input-data "$IN/resnet50_onnx.json" --request-rate-range "$rrate" \
      --request-distribution poisson >>"$WORK/perf.log" 2>&1 || log "resnet overload perf failed"
  fi
  fact serval_rss_kb_after_E "$(peer_rss_kb "$SERVAL_PID")"
fi
[ -n "$SERVAL_PID" ] && stop_serval

if want D; then
  log "memory: serval 1 vs 4 instances, gunicorn 1 vs 4 workers"
  for n in 1 4; do
    make_repo "$WORK/mem$n" "$n" resnet50_onnx
    start_serval "$WORK/mem$n"
    fact "D_serval_rss_kb_idle_$n" "$(peer_rss_kb "$SERVAL_PID")"
    "$SERVAL" perf --no-progress -p "$MEM_WINDOW_MS" -r 1 --warmup 1 -m resnet50_onnx \
      -u "$(S_URL)" --input-data "$IN/resnet50_onnx.json" --concurrency-range 8 \
      --json "$RES/D_serval_load_$n.json" >>"$WORK/perf.log" 2>&1 || true
    fact "D_serval_rss_kb_$n" "$(peer_rss_kb "$SERVAL_PID")"
    fact "D_serval_pss_kb_$n" "$(peer_pss_kb "$SERVAL_PID")"
    stop_serval
  done
  if [ -f "$MODELS/resnet50_torch/1/model.pt" ]; then
    for n in 1 4; do
      peer_start_gunicorn "$MODELS/resnet50_torch" "$n" 1
      "$SERVAL" perf --no-progress -p "$MEM_WINDOW_MS" -r 1 --warmup 1 --no-server-stats \
        -m resnet50_torch -u "127.0.0.1:$PEER_PORT" --input-data "$IN/resnet50_torch.json" \
        --concurrency-range 8 --json "$RES/D_gunicorn_load_$n.json" >>"$WORK/perf.log" 2>&1 || true
      fact "D_gunicorn_rss_kb_$n" "$(peer_rss_kb "$PEER_PID")"
      fact "D_gunicorn_pss_kb_$n" "$(peer_pss_kb "$PEER_PID")"
      peer_stop_all
    done
  fi
fi

fact load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
fact finished "$(date -u '+%F %H:%M UTC')"
report
cat "$OUT"
