#!/usr/bin/env bash
# Runs one libFuzzer target for a while over its committed seed corpus:
#   run_fuzzer.sh FUZZER_BINARY NAME SECONDS [extra libFuzzer flags...]
# New inputs go to a scratch corpus (the committed one is read-only to the
# run); a crash, leak or sanitizer report fails the run and leaves its
# input in $SERVAL_FUZZ_ARTIFACTS (default: the scratch directory), which
# is printed. Sanitizer options and suppressions come from
# tests/sanitizers/env.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$1" NAME="$2" SECONDS_="$3"
shift 3
# shellcheck source=../sanitizers/env.sh
. "$HERE/../sanitizers/env.sh"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/serval-fuzz-$NAME.XXXXXX")"
trap 'rm -rf "$scratch/corpus"' EXIT
mkdir -p "$scratch/corpus"
artifacts="${SERVAL_FUZZ_ARTIFACTS:-$scratch}"
mkdir -p "$artifacts"
args=(-max_total_time="$SECONDS_" -timeout=10 -rss_limit_mb=4096
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/$NAME-")
if [ -f "$HERE/dict/$NAME.dict" ]; then args+=(-dict="$HERE/dict/$NAME.dict"); fi
set +e
"$BIN" "${args[@]}" "$@" "$scratch/corpus" "$HERE/corpus/$NAME" 2>"$scratch/log"
rc=$?
set -e
grep -E "^(#[0-9]+ *(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss_mb)" "$scratch/log" || true
if [ "$rc" != 0 ]; then
  tail -n 60 "$scratch/log"
  echo "fuzz_$NAME: FAILED (exit $rc); inputs that failed: $(ls "$artifacts" | grep "^$NAME-" | tr '\n' ' ')"
  echo "full log: $scratch/log"
  exit 1
fi
rm -rf "$scratch"
