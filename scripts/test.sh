#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit tests and the
# integration tests that start the real binary). Non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SERVAL_BUILD_DIR:-$ROOT/build}"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
cd "$BUILD"
ctest --output-on-failure -j "${SERVAL_TEST_JOBS:-2}" --timeout 600
