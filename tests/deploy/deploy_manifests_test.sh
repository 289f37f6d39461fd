#!/usr/bin/env bash
# Offline validation of what deploy/ ships (ctest deploy_manifests):
#  - yamllint over the Kubernetes and KServe manifests of deploy/kubernetes;
#  - every object against its schema, and the objects against each other
#    and against serval's metric names and flags (validate_manifests.mjs);
#  - the Dockerfile through dockerfile-utils' linter;
#  - and the same checks must reject broken copies (negative_check.mjs, a
#    malformed YAML file, a broken Dockerfile).
# Exits 77 (skipped) when yamllint, node or the npm validators
# (scripts/setup.sh, third_party/deploy-validators) are missing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MANIFESTS="$ROOT/deploy/kubernetes"
DOCKERFILE="$ROOT/deploy/docker/Dockerfile"
MODULES="$ROOT/third_party/deploy-validators/node_modules"
LINT_DOCKERFILE="$MODULES/.bin/dockerfile-utils"

command -v yamllint >/dev/null || { echo "SKIP: yamllint not installed (scripts/setup.sh)"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node not installed"; exit 77; }
if [ ! -x "$LINT_DOCKERFILE" ] || [ ! -d "$MODULES/kubernetes-models" ]; then
  echo "SKIP: $MODULES incomplete (scripts/setup.sh)"
  exit 77
fi

yamllint --strict -c "$HERE/yamllint.yaml" "$MANIFESTS"
echo "yamllint: $(find "$MANIFESTS" -name '*.yaml' | wc -l) files clean"
node "$HERE/validate_manifests.mjs" "$MODULES" "$MANIFESTS" "$ROOT"
"$LINT_DOCKERFILE" lint "$DOCKERFILE"
echo "dockerfile-utils: deploy/docker/Dockerfile clean"

# Negative checks: each tool must fail on a broken input.
node "$HERE/negative_check.mjs" "$MODULES" "$MANIFESTS" "$ROOT"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# What the YAML parser accepts but Kubernetes may read otherwise: `on` is
# a boolean in YAML 1.1; and bad indentation.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n   name: x\ndata:\n  enabled: on\n' \
  > "$scratch/bad.yaml"
if yamllint --strict -c "$HERE/yamllint.yaml" "$scratch/bad.yaml" >/dev/null; then
  echo "FAIL: yamllint accepted a malformed file"
  exit 1
fi
echo "ok   yamllint rejected a malformed file"
sed -e 's/^EXPOSE 8000 8001 8002$/EXPOSE 8000 8001 metrics/' "$DOCKERFILE" > "$scratch/Dockerfile"
if cmp -s "$DOCKERFILE" "$scratch/Dockerfile" \
   || "$LINT_DOCKERFILE" lint "$scratch/Dockerfile" >/dev/null; then
  echo "FAIL: dockerfile-utils accepted a broken Dockerfile (or the EXPOSE line changed)"
  exit 1
fi
echo "ok   dockerfile-utils rejected a broken Dockerfile"
