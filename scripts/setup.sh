#!/usr/bin/env bash
# Installs every dependency serval needs, idempotently; quick when all is
# present. Called by scripts/run.sh and scripts/test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Debian packages (docs/architecture.md lists what each is for).
APT_PACKAGES=(
  build-essential cmake ccache pkg-config git
  libboost-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libsimdjson-dev rapidjson-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # Source checks run by ctest: clang-format, and clang's -Wthread-safety;
  # libFuzzer and clang's sanitizer runtimes for the fuzz job
  # (scripts/test_sanitized.sh).
  clang clang-format libclang-rt-14-dev
  python3 python3-grpcio python3-protobuf
  # TorchScript backend; without the pthread OpenBLAS Debian's libtorch
  # falls back to the reference BLAS, about 10x slower.
  libtorch-dev libopenblas0-pthread
  # The image backend's decoders.
  libjpeg62-turbo-dev libpng-dev
  # Example models (scripts/make_models.py runs with /usr/bin/python3); PIL
  # is the reference of the image backend's parity test.
  python3-torch python3-torchvision python3-onnx python3-numpy python3-pil
  # Peers for benchmarks, and the real Prometheus of the observability test.
  nginx wrk prometheus
  # Python peers of bench/compare.sh (bench/peers/).
  python3-fastapi uvicorn python3-flask gunicorn
  # Renders the `serval tune` report headless in its test.
  chromium
  # S3 repositories: OpenSSL for SigV4 and TLS; boto3 seeds the test
  # buckets (tests/integration/s3_test.py).
  libssl-dev python3-boto3
  # Lints the Kubernetes manifests of deploy/ (tests/deploy).
  yamllint
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# ONNX Runtime comes from the npm registry; the machine's Node.js usually
# ships npm, Debian's npm package is the fallback.
if ! command -v npm >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends npm
fi


# ---- ONNX Runtime (owner: onnxruntime backend) -------------------------------
# Library 1.30 from the npm package onnxruntime-node (only the .so, no Node
# code); C/C++ headers 1.21 from Debian trixie's libonnxruntime-dev, fetched
# with a private apt configuration so the system's sources are untouched.
# The plugin asks for C API version 21, which the 1.30 library serves.
ORT_VERSION=1.30.0
ORT_PREFIX="$ROOT/third_party/onnxruntime"
ORT_STAMP="$ORT_PREFIX/.installed-$ORT_VERSION"
if [ ! -f "$ORT_STAMP" ]; then
  echo "setup: installing ONNX Runtime $ORT_VERSION into $ORT_PREFIX"
  ort_tmp="$(mktemp -d)"
  trap 'rm -rf "$ort_tmp"' EXIT
  rm -rf "$ORT_PREFIX"
  mkdir -p "$ORT_PREFIX/lib" "$ORT_PREFIX/include"

  (cd "$ort_tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
  tar -xzf "$ort_tmp"/onnxruntime-node-*.tgz -C "$ort_tmp" \
    package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  cp "$ort_tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_PREFIX/lib/"
  ln -sf libonnxruntime.so.1 "$ORT_PREFIX/lib/libonnxruntime.so"

  # The Debian mirror this machine already uses (deb822 or one-line format).
  mirror="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
              | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)"
  if [ -z "$mirror" ]; then
    mirror="$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
                | awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' \
                | grep -v -- '-security' | head -n1 || true)"
  fi
  mirror="${mirror:-http://deb.debian.org/debian}"
  mkdir -p "$ort_tmp/lists/partial" "$ort_tmp/cache/archives/partial" "$ort_tmp/deb"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" \
    > "$ort_tmp/sources.list"
  apt_private=(-o "Dir::Etc::SourceList=$ort_tmp/sources.list"
               -o "Dir::Etc::SourceParts=/dev/null"
               -o "Dir::State::Lists=$ort_tmp/lists"
               -o "Dir::Cache=$ort_tmp/cache"
               -o "APT::Architecture=amd64")
  # _apt cannot read a private mktemp directory; download as ourselves.
  if [ "$(id -u)" = 0 ]; then apt_private+=(-o "APT::Sandbox::User=root"); fi
  apt-get "${apt_private[@]}" update -qq
  (cd "$ort_tmp/deb" && apt-get "${apt_private[@]}" download libonnxruntime-dev)
  dpkg-deb -x "$ort_tmp"/deb/libonnxruntime-dev_*.deb "$ort_tmp/x"
  ort_headers="$(dirname "$(find "$ort_tmp/x" -name onnxruntime_c_api.h | head -n1)")"
  cp -r "$ort_headers"/. "$ORT_PREFIX/include/"
  test -f "$ORT_PREFIX/include/onnxruntime_cxx_api.h"
  rm -rf "$ort_tmp"
  trap - EXIT
  touch "$ORT_STAMP"
fi
# ---- end ONNX Runtime --------------------------------------------------------

# npm_install_pinned WHAT PREFIX STAMP PACKAGE@VERSION...: installs pinned
# npm packages into PREFIX (under third_party/) once; a new STAMP (the
# version, or a number bumped when the list changes) installs them afresh.
# --engine-strict=false: Node.js 20 runs packages that ask for a newer one
# but use nothing newer (kubernetes-models).
npm_install_pinned() {
  local what="$1" prefix="$2" stamp="$3"
  shift 3
  [ -f "$prefix/.installed-$stamp" ] && return 0
  echo "setup: installing $what into $prefix"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  npm install --silent --no-audit --no-fund --engine-strict=false \
    --prefix "$prefix" "$@" >/dev/null
  touch "$prefix/.installed-$stamp"
}

# ---- s3rver (owner: S3 repository tests) -------------------------------------
# A real S3-compatible server on the machine's Node.js, from the npm
# registry; tests/integration/s3/s3_server.js starts it with SigV4 checked.
S3RVER_VERSION=3.7.1
npm_install_pinned "s3rver $S3RVER_VERSION" "$ROOT/third_party/s3rver" \
  "$S3RVER_VERSION" "s3rver@$S3RVER_VERSION"
# ---- end s3rver --------------------------------------------------------------

# ---- deploy validators (owner: deploy manifests test) ------------------------
# What tests/deploy (ctest deploy_manifests) validates deploy/ with, from
# the npm registry: kubernetes-models (the Kubernetes API's own OpenAPI
# schemas compiled into ajv validators), the Prometheus Operator's CRDs, a
# YAML parser, ajv for the test's own schemas of the KServe and
# prometheus-adapter objects, and dockerfile-utils, the Dockerfile linter of
# VS Code's Docker support (hadolint is in neither Debian nor npm).
npm_install_pinned "the deploy validators" "$ROOT/third_party/deploy-validators" \
  1 kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0 \
  yaml@2.9.1 ajv@8.20.0 dockerfile-utils@0.16.3
# ---- end deploy validators ---------------------------------------------------

# The example model repository (examples/models, git-ignored), quick when
# up to date.
"$ROOT/scripts/make_repository.sh"

echo "setup: dependencies present"
