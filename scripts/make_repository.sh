#!/usr/bin/env bash
# Generates the example model repository examples/models/ (git-ignored) with
# scripts/make_models.py. Idempotent: when every model directory carries the
# current script's hash it returns without starting Python.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/examples/models}"
SCRIPT="$ROOT/scripts/make_models.py"
MODELS=(identity mlp_onnx mlp_torch text_lstm_onnx text_lstm_torch resnet50_onnx resnet50_torch)

hash="$(sha256sum "$SCRIPT" | cut -c1-16)"
stale=0
for m in "${MODELS[@]}"; do
  if [ "$(cat "$OUT/$m/.generated" 2>/dev/null)" != "$hash" ]; then stale=1; break; fi
done
if [ "$stale" = 0 ]; then
  echo "make_repository: $OUT up to date"
  exit 0
fi
# Debian's interpreter owns torch/torchvision/onnx; the python3 on PATH may not.
exec /usr/bin/python3 "$SCRIPT" --out "$OUT"
