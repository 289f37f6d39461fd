#!/usr/bin/env bash
# What serval takes on disk, per variant of the image deploy/docker/Dockerfile
# builds: serval and its plugins (stripped, as the image ships them), plus
# the shared libraries they load (ldd's closure) that debian:bookworm-slim
# does not already hold, and the Debian packages installing those adds.
# Variants: no framework (identity, image, tokenizer and python plugins),
# with ONNX Runtime (third_party/onnxruntime), with Debian's libtorch, both.
# Prints a markdown table and appends it to bench/results/<date>-footprint.md.
# Needs a build (scripts/build.sh) with the onnxruntime and torch plugins.
#
#   bench/footprint.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build}" && pwd)"
CLOSURE="$ROOT/deploy/docker/runtime-packages.sh"
B="$BUILD/backends"
[ -x "$BUILD/serval" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
for f in "$B/onnxruntime/libserval_onnxruntime.so" "$B/torch/libserval_torch_impl.so"; do
  [ -f "$f" ] || { echo "footprint: $f missing (scripts/setup.sh, then scripts/build.sh)" >&2; exit 1; }
done
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

CORE=("$BUILD/serval" "$B/identity/libserval_identity.so" "$B/image/libserval_image.so"
      "$B/tokenizer/libserval_tokenizer.so" "$B/python/libserval_python.so")
ORT=("$B/onnxruntime/libserval_onnxruntime.so")
TORCH=("$B/torch/libserval_torch.so" "$B/torch/libserval_torch_impl.so")

# What debian:bookworm-slim holds: the packages of priority required and
# apt with what it depends on (debootstrap's minbase, which the slim image
# is), read from this machine's package lists.
{
  dpkg-query -W -f='${Package} ${Priority}\n' | awk '$2 == "required" { print $1 }'
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances apt | grep -v -e '^ ' -e '^<'
} | sort -u > "$WORK/slim"

# Bytes of a file once stripped, as the image ships it.
stripped() {
  strip --strip-unneeded -o "$WORK/stripped" "$1" && stat -c %s "$WORK/stripped"
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# One table row: serval's own files, the closure's libraries beyond the slim
# image (no package: ONNX Runtime's library, shipped beside the plugin), and
# the Debian packages those come from.
row() {
  local name="$1"; shift
  local own=0 f
  for f in "$@"; do own=$((own + $(stripped "$f"))); done
  if [[ " $* " == *"libserval_python.so"* ]]; then
    for f in "$B"/python/stub/*.py; do own=$((own + $(stat -c %s "$f"))); done
  fi
  "$CLOSURE" --files "$@" | awk 'NR == FNR { slim[$1] = 1; next } !($1 in slim)' "$WORK/slim" - \
    > "$WORK/extra"
  local libs=0 lib
  while read -r lib; do
    libs=$((libs + $(stat -L -c %s "$lib")))
  done < <(cut -d' ' -f2 "$WORK/extra" | sort -u)
  cut -d' ' -f1 "$WORK/extra" | grep -v '^-$' | sort -u > "$WORK/packages-$name" || true
  local count kib
  count="$(wc -l < "$WORK/packages-$name")"
  # shellcheck disable=SC2046 # one name per line
  kib="$(dpkg-query -W -f='${Installed-Size}\n' $(cat "$WORK/packages-$name") | awk '{ s += $1 } END { print s + 0 }')"
  local total=$((own + libs))
  echo "$total" > "$WORK/total-$name"
  printf '| %s | %s | %s | **%s** | %d packages, %s |\n' "$name" "$(mib "$own")" "$(mib "$libs")" \
    "$(mib "$total")" "$count" "$(mib $((kib * 1024)))"
}

table() {
  echo "| variant | serval + plugins, stripped (MiB) | libraries beyond bookworm-slim (MiB) | total (MiB) | Debian packages added (installed size, MiB) |"
  echo "| --- | --- | --- | --- | --- |"
  row "no framework" "${CORE[@]}"
  row "+ ONNX Runtime" "${CORE[@]}" "${ORT[@]}"
  row "+ libtorch (Debian)" "${CORE[@]}" "${TORCH[@]}"
  row "+ both" "${CORE[@]}" "${ORT[@]}" "${TORCH[@]}"
  echo
  echo "Debian packages serval needs beyond bookworm-slim, without frameworks:" \
    "$(paste -sd' ' "$WORK/packages-no framework")."
  # The base image, estimated as its packages' installed size on this
  # machine (Docker is not available to measure the image itself); the apt
# closure names alternatives not installed here, which dpkg-query skips.
  local base
  # shellcheck disable=SC2046 # one name per line
  base="$({ dpkg-query -W -f='${Installed-Size}\n' $(cat "$WORK/slim") 2>/dev/null || true; } \
            | awk '{ s += $1 } END { print s * 1024 }')"
  echo "debian:bookworm-slim itself, estimated from its packages' installed size: $(mib "$base") MiB."
  # Triton's figure is quoted, not measured: its image cannot be pulled here.
  # It includes its base (Ubuntu, CUDA), so serval's totals get theirs too.
  local triton=15500000000 with_ort with_both
  with_ort=$(($(cat "$WORK/total-+ ONNX Runtime") + base))
  with_both=$(($(cat "$WORK/total-+ both") + base))
  echo
  printf '%s' "Triton \`24.06-py3\` (nearly all backends, CPU and GPU): 15.5 GB, as a Triton maintainer put it. "
  printf 'An image of serval with ONNX Runtime is about %s MiB with its base (%sx smaller), ' \
    "$(mib "$with_ort")" "$(awk -v t="$triton" -v s="$with_ort" 'BEGIN { printf "%.0f", t / s }')"
  printf 'with both frameworks about %s MiB (%sx smaller); these are CPU builds.\n' \
    "$(mib "$with_both")" "$(awk -v t="$triton" -v s="$with_both" 'BEGIN { printf "%.0f", t / s }')"
}

out="$ROOT/bench/results/$(date -u +%F)-footprint.md"
{
  echo
  echo "## $(date -u '+%F %H:%M') UTC, $(git -C "$ROOT" describe --always --dirty), Debian $(cat /etc/debian_version)"
  echo
  ort="$(find "$ROOT/third_party/onnxruntime" -maxdepth 1 -name '.installed-*' -printf '%f\n' | sed 's/^.installed-//')"
  echo "ONNX Runtime ${ort:-?} (npm onnxruntime-node's library);" \
       "libtorch: Debian's $(dpkg-query -W -f='${Package} ${Version}' 'libtorch[0-9]*' | head -n1) (CPU)."
  echo "Sizes exclude the base image (estimated below); libraries are counted once per variant."
  echo
  table
} > "$WORK/report"
[ -f "$out" ] || printf '# Footprint (bench/footprint.sh)\n' > "$out"
cat "$WORK/report" >> "$out"
cat "$WORK/report"
echo
echo "appended to ${out#"$ROOT"/}"
