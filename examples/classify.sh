#!/usr/bin/env bash
# Posts a photo to an image pipeline and prints its top classes:
#   examples/classify.sh PHOTO [MODEL] [TOP_K] [HOST:PORT]
# MODEL defaults to resnet50_pipeline, TOP_K to 5, HOST:PORT to
# localhost:8000. The request uses the binary tensor extension: a JSON
# header asking for the classification of SCORES, then the photo's bytes
# as one BYTES element.
set -euo pipefail
photo="${1:?usage: examples/classify.sh PHOTO [MODEL] [TOP_K] [HOST:PORT]}"
model="${2:-resnet50_pipeline}"
k="${3:-5}"
url="${4:-localhost:8000}"
body="$(mktemp)"
trap 'rm -f "$body"' EXIT
header_length="$(python3 - "$photo" "$k" "$body" <<'PY'
import json, struct, sys
photo, k, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(photo, "rb").read()
header = json.dumps({
    "inputs": [{"name": "IMAGE", "datatype": "BYTES", "shape": [1, 1],
                "parameters": {"binary_data_size": len(data) + 4}}],
    "outputs": [{"name": "SCORES", "parameters": {"classification": k}}],
}).encode()
open(out, "wb").write(header + struct.pack("<I", len(data)) + data)
print(len(header))
PY
)"
curl -sS -X POST "$url/v2/models/$model/infer" \
  -H "Inference-Header-Content-Length: $header_length" \
  -H "Content-Type: application/octet-stream" --data-binary @"$body"
echo
