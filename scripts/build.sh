#!/usr/bin/env bash
# Configures (once) and builds serval into build/: build/serval and
# build/backends/<name>/libserval_<name>.so. Extra args go to cmake.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SERVAL_BUILD_DIR:-$ROOT/build}"
JOBS="${SERVAL_JOBS:-$(nproc)}"
# Paths relative to the checkout, so a fresh clone elsewhere (CI) still
# hits the compiler cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$BUILD" -j "$JOBS"
