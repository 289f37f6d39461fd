#!/usr/bin/env bash
# Offline (no server) throughput of the onnxruntime and torch backends on the
# example resnet50 and mlp models at batch 1, 8, 32: the ceiling that served
# throughput is compared against. Writes bench/results/<date>-offline.md.
#
#   bench/offline.sh [--seconds N]      (BUILD_DIR defaults to ./build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
SECONDS_PER_BATCH=5
if [ "${1:-}" = "--seconds" ]; then SECONDS_PER_BATCH="$2"; fi
BATCHES=1,8,32

"$ROOT/scripts/make_repository.sh" >/dev/null
BENCH="$BUILD_DIR/bench/offline/serval_offline_bench"
if [ ! -x "$BENCH" ]; then
  cmake --build "$BUILD_DIR" --target serval_offline_bench serval_onnxruntime serval_torch
fi

out="$ROOT/bench/results/$(date -u +%F)-offline.md"
mkdir -p "$(dirname "$out")"
rows="$(mktemp)"
trap 'rm -f "$rows"' EXIT

run() {  # plugin model
  local plugin="$BUILD_DIR/backends/$1/libserval_$1.so"
  if [ ! -f "$plugin" ]; then
    echo "offline: $plugin not built, skipping $2" >&2
    return
  fi
  local cmd=("$BENCH" --plugin "$plugin" --model-dir "$ROOT/examples/models/$2"
             --batch "$BATCHES" --seconds "$SECONDS_PER_BATCH")
  echo "offline: ${cmd[*]}" >&2
  "${cmd[@]}" 2>/dev/null | grep "^| " | tee -a "$rows"
}

# Other work on the machine skews every figure: record the load around the run.
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
run onnxruntime resnet50_onnx
run torch resnet50_torch
run onnxruntime mlp_onnx
run torch mlp_torch
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

{
  echo "# Offline backend throughput ($(date -u '+%F %H:%M UTC'))"
  echo
  echo "No server: one instance, batches run back to back through src/backend"
  echo "(RunBatchSync), inputs random, ${SECONDS_PER_BATCH}s per batch size after 3 warm-up runs."
  echo "Intra-op threads: the backends' default (available CPUs / 1 instance)."
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs available"
  echo "- onnxruntime: $(ls "$ROOT"/third_party/onnxruntime/.installed-* 2>/dev/null | sed 's/.*installed-//'); libtorch: $(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo unknown)"
  echo "- load average (1/5/15 min) before: $load_before, after: $load_after"
  echo "- command: \`BUILD_DIR=$BUILD_DIR bench/offline.sh --seconds $SECONDS_PER_BATCH\`"
  echo "  (per model: \`serval_offline_bench --plugin <so> --model-dir examples/models/<model> --batch $BATCHES --seconds $SECONDS_PER_BATCH\`)"
  echo
  echo "| backend | model | batch | items/s | ms/batch | batches |"
  echo "| --- | --- | --- | --- | --- | --- |"
  cat "$rows"
  echo
  echo "onnxruntime / torch throughput ratio:"
  echo
  echo "| model | batch | ratio |"
  echo "| --- | --- | --- |"
  awk -F'|' '{ gsub(/ /, "", $2); gsub(/ /, "", $3); gsub(/ /, "", $4);
               m = $3; sub(/_(onnx|torch)$/, "", m); r[$2, m, $4] = $5; key[m, $4] = 1 }
             END { for (k in key) { split(k, p, SUBSEP);
                     if (r["onnxruntime", p[1], p[2]] && r["torch", p[1], p[2]])
                       printf "| %s | %s | %.2f |\n", p[1], p[2],
                              r["onnxruntime", p[1], p[2]] / r["torch", p[1], p[2]] } }' \
      "$rows" | sort -t'|' -k2,2 -k3,3n
} > "$out"
echo "offline: wrote $out"
