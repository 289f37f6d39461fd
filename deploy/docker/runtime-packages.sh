#!/usr/bin/env bash
# Prints, one per line, the Debian packages that own the shared libraries
# the given ELF files load (ldd's closure), so a runtime image installs what
# the binaries really link instead of a list that drifts from the build.
# Libraries no package owns (ONNX Runtime from npm) are left out; the
# caller ships those itself. With --files, prints "<package> <library>"
# for every library of the closure instead ("-" where no package owns it).
# Used by deploy/docker/Dockerfile and bench/footprint.sh.
#   runtime-packages.sh [--files] build/serval build/backends/*/*.so
set -euo pipefail
FILES=0
if [ "${1:-}" = --files ]; then FILES=1; shift; fi

# The library paths of the closure; "not found" fails loudly, since the
# image would fail the same way.
libraries() {
  local missing
  missing="$(ldd "$@" 2>/dev/null | awk '/not found/ { print $1 }' | sort -u)"
  if [ -n "$missing" ]; then
    echo "runtime-packages: unresolved libraries: $missing" >&2
    exit 1
  fi
  # "lib => /path (addr)" lines, and the loader's own "/path (addr)" line;
  # not the "file:" headers ldd prints when given several files.
  ldd "$@" 2>/dev/null \
    | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(/ { print $1 }' \
    | sort -u
}

libs="$(libraries "$@")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# dpkg knows a file under the path its package installed it to: ldd may say
# /lib where the package says /usr/lib (merged /usr), and a library chosen
# by update-alternatives (libblas.so.3: OpenBLAS) is owned only at the end
# of its symlinks. So each library is looked up under all three names, in
# one pass over dpkg's file lists (dpkg-query -S per file takes a second).
for lib in $libs; do
  printf '%s %s\n%s %s\n%s %s\n' "$lib" "$lib" "/usr$lib" "$lib" "$(readlink -f "$lib")" "$lib"
done | sort -u > "$work/names"
cut -d' ' -f1 "$work/names" > "$work/candidates"
grep -HFxf "$work/candidates" /var/lib/dpkg/info/*.list \
  | sed -e 's|^/var/lib/dpkg/info/||' -e 's|:[a-z0-9]*\.list:| |' -e 's|\.list:| |' \
  > "$work/owned" || true

# "<package> <library>" for each library of the closure.
awk 'NR == FNR { lib[$1] = $2; next }
     FILENAME == ARGV[2] { owner[lib[$2]] = $1; next }
     { print (($1 in owner) ? owner[$1] : "-"), $1 }' \
  "$work/names" "$work/owned" <(printf '%s\n' "$libs") > "$work/pairs"

if [ "$FILES" = 1 ]; then
  sort -u "$work/pairs"
else
  awk '$1 != "-" { print $1 }' "$work/pairs" | sort -u
fi
