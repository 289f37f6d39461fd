#!/usr/bin/env bash
# Generates the example model repository examples/models/ (git-ignored):
# serval's examples with scripts/make_models.py, models shaped like
# Triton's example repository with scripts/make_triton_examples.py, and the
# image pipelines (and sample photos in examples/images/) with
# scripts/make_pipelines.py.
# Idempotent: when every model directory carries its script's current hash
# it returns without starting Python.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/examples/models}"

# generate <script> <model directories it writes>
generate() {
  local script="$ROOT/scripts/$1"; shift
  local hash m
  hash="$(sha256sum "$script" | cut -c1-16)"
  for m in "$@"; do
    if [ "$(cat "$OUT/$m/.generated" 2>/dev/null)" != "$hash" ]; then
      # Debian's interpreter owns torch/torchvision/onnx; the python3 on
      # PATH may not.
      /usr/bin/python3 "$script" --out "$OUT"
      return
    fi
  done
  echo "make_repository: $(basename "$script") models in $OUT up to date"
}

generate make_models.py identity mlp_onnx mlp_torch text_lstm_onnx \
  text_lstm_torch resnet50_onnx resnet50_torch
generate make_triton_examples.py simple simple_int8 simple_string \
  simple_identity densenet_onnx simple_chain
generate make_pipelines.py imagenet_preprocess resnet50_pipeline \
  mobilenet_onnx mobilenet_pipeline text_tokenizer text_lstm_pipeline
# The sample photos live outside the model directories' stamps.
[ -f "$ROOT/examples/images/large.jpg" ] || \
  /usr/bin/python3 "$ROOT/scripts/make_pipelines.py" --out "$OUT"
