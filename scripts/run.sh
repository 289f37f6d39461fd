#!/usr/bin/env bash
# Installs what is missing, builds, generates the example model repository
# and starts serval on it in the foreground (HTTP 8000, gRPC 8001, metrics
# 8002). Extra args go to `serval serve`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
exec "$ROOT/build/serval" serve \
  --model-repository "$ROOT/examples/models" \
  --backend-directory "$ROOT/build/backends" "$@"
