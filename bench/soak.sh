#!/usr/bin/env bash
# An hour of mixed load on every example model (bench/soak.py says what
# runs); appends its figures to bench/results/<date>-soak.md. Needs a
# build (scripts/build.sh) and the example repository
# (scripts/make_repository.sh). Exits non-zero on any unexpected error.
#
#   bench/soak.sh [--minutes 60] [--window-min 5] [--warmup-min 5]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -x "$ROOT/build/serval" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
"$ROOT/scripts/make_repository.sh" >/dev/null
echo "soak: load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
exec /usr/bin/python3 "$ROOT/bench/soak.py" "$@"
