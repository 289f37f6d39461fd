#!/usr/bin/env bash
# clang's -Wthread-safety over serval's own translation units, as errors:
# every ABSL_GUARDED_BY member is only touched with its mutex held, and
# every ABSL_EXCLUSIVE_LOCKS_REQUIRED function is only called so. Compiles
# with -fsyntax-only, using the flags of the build's compile_commands.json,
# so it costs a parse per file, not a second build. Run by ctest as
# thread_safety_check. Exits 77 (skipped) without clang++.
#
#   scripts/check_thread_safety.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-${SERVAL_BUILD_DIR:-$ROOT/build}}"
CLANG="$(command -v clang++-14 || command -v clang++ || true)"
[ -n "$CLANG" ] || { echo "SKIP: clang++ not installed"; exit 77; }
[ -f "$BUILD/compile_commands.json" ] || { echo "no $BUILD/compile_commands.json; build first"; exit 1; }
exec /usr/bin/python3 - "$CLANG" "$BUILD/compile_commands.json" "$ROOT" <<'PY'
import json, os, shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
clang, db, root = sys.argv[1:4]
# libtorch's headers do not parse with clang 14; that file holds no
# annotated state (the plugin's threads are libtorch's).
SKIP = ("backends/torch/torch_model.cc",)
jobs = []
for entry in json.load(open(db)):
    src = os.path.relpath(entry["file"], root)
    if src.startswith(("..", "build", "proto_root")) or src.endswith(".pb.cc") or src in SKIP:
        continue
    if not src.endswith(".cc"):
        continue
    args = shlex.split(entry["command"]) if "command" in entry else entry["arguments"]
    out = []
    skip_next = False
    for a in args[1:]:
        if skip_next:
            skip_next = False
            continue
        if a in ("-o", "-c"):
            skip_next = a == "-o"
            continue
        if a == entry["file"] or a.startswith("-fdiagnostics-color"):
            continue
        out.append(a)
    jobs.append((src, [clang, "-fsyntax-only", "-Wthread-safety",
                       "-Werror=thread-safety", "-Wno-unknown-warning-option",
                       "-Wno-unused-command-line-argument"] + out + [entry["file"]],
                 entry["directory"]))
def run(job):
    src, cmd, cwd = job
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return src, p.returncode, p.stderr
failed = 0
with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    for src, rc, err in pool.map(run, jobs):
        if rc != 0:
            failed += 1
            print(f"FAIL {src}\n{err}")
print(f"thread-safety: {len(jobs) - failed}/{len(jobs)} files clean")
sys.exit(1 if failed else 0)
PY
