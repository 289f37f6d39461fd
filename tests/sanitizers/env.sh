# Sanitizer runtime options for serval's sanitizer builds, sourced by
# scripts/test_sanitized.sh and tests/fuzz/run_fuzzer.sh (so that the
# serval processes the integration tests start inherit them). Options a
# caller already set are kept. Suppressions cover third-party code only;
# each file says which report and why.
SERVAL_SANITIZERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Reports go to stderr (the test logs) and fail the process with 66, an
# exit status nothing else in serval uses.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:exitcode=66:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1:allocator_may_return_null=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SERVAL_SANITIZERS_DIR/lsan.supp:print_suppressions=0:exitcode=66}"
# UBSan has no runtime suppressions here: every check is built
# non-recoverable, and third-party headers are excluded at compile time
# (ubsan_ignorelist.txt, clang).
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=66}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-suppressions=$SERVAL_SANITIZERS_DIR/tsan.supp:halt_on_error=1:second_deadlock_stack=1:exitcode=66}"
