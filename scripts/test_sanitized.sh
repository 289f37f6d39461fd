#!/usr/bin/env bash
# Builds serval under sanitizers and runs tests there; CI runs every job
# after scripts/test.sh (docs/testing.md says what each costs).
#
#   scripts/test_sanitized.sh [asan] [tsan] [fuzz]     (default: all three)
#
#   asan  gcc, -fsanitize=address,undefined, build-asan/: every unit test
#         and the integration suites against the sanitized serval binary.
#   tsan  gcc, -fsanitize=thread, build-tsan/: the unit tests of the
#         concurrent parts (executor, scheduler, lifecycle, ensembles,
#         metrics, the HTTP frontend). The backends' frameworks and gRPC
#         are not instrumented, so suites that run them stay out.
#   fuzz  clang, libFuzzer + address,undefined, build-fuzz/, also with
#         -Wthread-safety as errors: each fuzz target a few seconds over
#         its seed corpus (SERVAL_FUZZ_SECONDS, default 10).
#
# Environment: SERVAL_SANITIZE_ROOT (where the build dirs go; default the
# checkout), SERVAL_JOBS, SERVAL_TEST_JOBS.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${SERVAL_SANITIZE_ROOT:-$ROOT}"
JOBS="${SERVAL_JOBS:-$(nproc)}"
TEST_JOBS="${SERVAL_TEST_JOBS:-2}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
# These builds carry line tables (-g1), which make ccache hash the working
# directory: without this a fresh clone elsewhere (CI) misses every entry.
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
# shellcheck source=../tests/sanitizers/env.sh
. "$ROOT/tests/sanitizers/env.sh"

# -O1: what the sanitizers' authors advise (readable stacks, a fraction of
# -O2's build time); asserts stay on.
COMMON=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1
        -DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1)

# The integration suites under ASan, without the two whose runs are timed
# measurements (perf, tune: seconds per step, and what they add is client
# code) and the source checks test.sh already ran.
ASAN_EXCLUDE='^(format_check|thread_safety_check|tune_integration|perf_integration)$'
# grpc_test stays out: gRPC core hands operations between its threads with
# uninstrumented synchronization, and grpc++'s inlined half of each
# operation then looks like a race.
TSAN_TESTS=(common_test scheduler_test lifecycle_test ensemble_test metrics_test
            http_test)

stamp() { date +%s; }
report() { echo "test_sanitized: $1 took $(( $(stamp) - $2 )) s"; }

run_asan() {
  local t0 b="$OUT/build-asan"
  t0=$(stamp)
  cmake -S "$ROOT" -B "$b" "${COMMON[@]}" -DSERVAL_SANITIZE=address,undefined >/dev/null
  cmake --build "$b" -j "$JOBS"
  report "asan build" "$t0"
  (cd "$b" && ctest --output-on-failure -j "$TEST_JOBS" --timeout 900 -E "$ASAN_EXCLUDE" -LE '^torch_test$')
  # With libtorch loaded, LeakSanitizer's own tracer crashes at exit
  # (tests/sanitizers/lsan.supp); libtorch's unit tests run with ASan and
  # UBSan but without the leak check.
  (cd "$b" && LSAN_OPTIONS="$LSAN_OPTIONS:detect_leaks=0" \
     ctest --output-on-failure -j "$TEST_JOBS" --timeout 900 -L '^torch_test$')
  report "asan job" "$t0"
}

run_tsan() {
  local t0 b="$OUT/build-tsan" labels
  t0=$(stamp)
  cmake -S "$ROOT" -B "$b" "${COMMON[@]}" -DSERVAL_SANITIZE=thread >/dev/null
  cmake --build "$b" -j "$JOBS" --target "${TSAN_TESTS[@]}"
  report "tsan build" "$t0"
  # Every case of a unit-test binary carries the binary's name as a label.
  labels="^($(IFS='|'; echo "${TSAN_TESTS[*]}"))\$"
  (cd "$b" && ctest --output-on-failure -j "$TEST_JOBS" --timeout 900 -L "$labels")
  report "tsan job" "$t0"
}

run_fuzz() {
  local t0 b="$OUT/build-fuzz"
  t0=$(stamp)
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$b" "${COMMON[@]}" -DSERVAL_FUZZ=ON \
    -DSERVAL_SANITIZE=address,undefined -DSERVAL_THREAD_SAFETY=ON \
    -DSERVAL_FUZZ_SECONDS="${SERVAL_FUZZ_SECONDS:-10}" >/dev/null
  cmake --build "$b" -j "$JOBS" --target serval_fuzzers
  report "fuzz build" "$t0"
  (cd "$b" && ctest --output-on-failure -j "$TEST_JOBS" -L fuzz)
  report "fuzz job" "$t0"
}

jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(asan tsan fuzz)
for j in "${jobs[@]}"; do
  case "$j" in
    asan) run_asan ;;
    tsan) run_tsan ;;
    fuzz) run_fuzz ;;
    *) echo "unknown job '$j' (asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
done
