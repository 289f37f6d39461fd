#!/usr/bin/env bash
# Fails (listing the files) when a tracked C/C++ file differs from what
# clang-format makes of it (.clang-format: Google style). Run by ctest as
# format_check; `clang-format -i <file>` fixes one. Exits 77 (skipped) when
# clang-format is not installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
command -v clang-format >/dev/null || { echo "SKIP: clang-format not installed"; exit 77; }
bad=()
while IFS= read -r -d '' f; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files -z '*.cc' '*.h' '*.c')
if [ ${#bad[@]} -gt 0 ]; then
  echo "not clang-formatted (run clang-format -i on them):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "all $(git ls-files '*.cc' '*.h' '*.c' | wc -l) C/C++ files are clang-formatted"
