#!/usr/bin/env bash
# Long fuzzing runs: every target of tests/fuzz (or those named), each for
# SECONDS (default 1800) on its own corpus under build-fuzz/corpus/<target>
# (kept between runs, seeded from the committed one), JOBS targets side by
# side (default: one per core). Prints and appends to
# bench/results/<date>-fuzz.md each target's executions, rate, coverage
# (edges, features), corpus size and peak RSS; crashes land in
# build-fuzz/artifacts/. Builds build-fuzz first (scripts/test_sanitized.sh).
#
#   bench/fuzz.sh [--seconds N] [--jobs J] [--report-only] [target...]
# (--report-only: the table from the last run's logs, nothing run)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_=1800
REPORT_ONLY=0
JOBS="$(nproc)"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --report-only) REPORT_ONLY=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
B="$ROOT/build-fuzz"
if [ ! -d "$B/fuzz" ]; then
  SERVAL_FUZZ_SECONDS=1 "$ROOT/scripts/test_sanitized.sh" fuzz
fi
cmake --build "$B" --target serval_fuzzers >/dev/null
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$B"/fuzz/*_fuzzer; do targets+=("$(basename "$f" _fuzzer)"); done
fi
. "$ROOT/tests/sanitizers/env.sh"
mkdir -p "$B/artifacts" "$B/logs"

one() {
  local t="$1" dict=()
  mkdir -p "$B/corpus/$t"
  [ -f "$ROOT/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$ROOT/tests/fuzz/dict/$t.dict")
  "$B/fuzz/${t}_fuzzer" -max_total_time="$SECONDS_" -timeout=10 -rss_limit_mb=4096 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" \
    "${dict[@]}" "$B/corpus/$t" "$ROOT/tests/fuzz/corpus/$t" \
    >"$B/logs/$t.log" 2>&1 && echo ok >"$B/logs/$t.rc" || echo "exit $?" >"$B/logs/$t.rc"
}

running=0
[ "$REPORT_ONLY" = 1 ] && targets_to_run=() || targets_to_run=("${targets[@]}")
for t in "${targets_to_run[@]}"; do
  one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n || true; running=$((running - 1)); fi
done
wait || true

out="$ROOT/bench/results/$(date -u +%F)-fuzz.md"
{
  echo "## Fuzzing, $(date -u '+%F %H:%M') UTC: ${SECONDS_} s per target, $JOBS side by side"
  echo
  echo "| target | result | executions | exec/s | edges (cov) | features (ft) | corpus | peak RSS MB |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  for t in "${targets[@]}"; do
    log="$B/logs/$t.log"
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)"
    execs="$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$log" || echo '?')"
    rate="$(grep -oP 'exec/s: \K[0-9]+' <<<"$done_line" || echo '?')"
    cov="$(grep -oP 'cov: \K[0-9]+' <<<"$done_line" || echo '?')"
    ft="$(grep -oP 'ft: \K[0-9]+' <<<"$done_line" || echo '?')"
    corp="$(ls "$B/corpus/$t" | wc -l)"
    rss="$(grep -oP 'stat::peak_rss_mb:\s*\K[0-9]+' "$log" || echo '?')"
    echo "| $t | $(cat "$B/logs/$t.rc") | $execs | $rate | $cov | $ft | $corp | $rss |"
  done
  echo
} | tee -a "$out"
grep -l "^exit" "$B"/logs/*.rc >/dev/null 2>&1 && { echo "fuzz: failures; see $B/logs and $B/artifacts"; exit 1; }
exit 0
