#!/usr/bin/env bash
# HTTP frontend throughput: wrk POSTing a KServe v2 JSON infer request to
# serval's identity model, against nginx returning a fixed response of the
# same size, both on free loopback ports, measured in the same run. Shows
# what the HTTP layer costs compared with a server that does no work.
# Writes bench/results/<date>-http-vs-nginx.md.
#
#   bench/http_vs_nginx.sh [--seconds N] [--connections C] [--threads T]
#   (BUILD_DIR defaults to ./build; needs build/serval and the identity backend)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
DURATION=10
CONNECTIONS=64
WRK_THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --threads) WRK_THREADS="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--connections C] [--threads T]" >&2; exit 2 ;;
  esac
done
SERVAL="$BUILD_DIR/serval"
BACKENDS="$BUILD_DIR/backends"
for need in "$SERVAL" "$BACKENDS/identity/libserval_identity.so"; do
  [ -e "$need" ] || { echo "http_vs_nginx: $need is missing; build first" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "http_vs_nginx: wrk not installed" >&2; exit 1; }
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$NGINX" ] || { echo "http_vs_nginx: nginx not installed" >&2; exit 1; }

WORK="$(mktemp -d)"
SERVAL_PID=""
NGINX_PID=""
cleanup() {
  local pid
  for pid in "$SERVAL_PID" "$NGINX_PID"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# One identity model with a 16-element FP32 input.
mkdir -p "$WORK/repo/identity_fp32/1"
cat > "$WORK/repo/identity_fp32/config.pbtxt" <<'PB'
name: "identity_fp32"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
PB
BODY='{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[16],"data":[0.5,1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5,9.5,10.5,11.5,12.5,13.5,14.5,15.5]}]}'
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
LUA

HTTP_PORT="$(free_port)"
GRPC_PORT="$(free_port)"
METRICS_PORT="$(free_port)"
"$SERVAL" serve --model-repository "$WORK/repo" --backend-directory "$BACKENDS" \
  --http-port "$HTTP_PORT" --grpc-port "$GRPC_PORT" --metrics-port "$METRICS_PORT" \
  --log-level warn >"$WORK/serval.log" 2>&1 &
SERVAL_PID=$!
for _ in $(seq 1 300); do
  if curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/v2/health/ready"; then break; fi
  kill -0 "$SERVAL_PID" 2>/dev/null || { cat "$WORK/serval.log" >&2; exit 1; }
  sleep 0.1
done
URL="http://127.0.0.1:$HTTP_PORT/v2/models/identity_fp32/infer"
RESPONSE="$(curl -sf -X POST -H 'Content-Type: application/json' -d "$BODY" "$URL")" || {
  echo "http_vs_nginx: infer failed" >&2; cat "$WORK/serval.log" >&2; exit 1; }

# nginx answers any POST with the very bytes serval returned.
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/nginx/logs"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes $(nproc);
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      default_type application/json;
      return 200 '$RESPONSE';
    }
  }
}
CONF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' \
  2>"$WORK/nginx/logs/stderr.log" &
NGINX_PID=$!
for _ in $(seq 1 100); do
  if curl -sf -o /dev/null -X POST -d "$BODY" "http://127.0.0.1:$NGINX_PORT/"; then break; fi
  sleep 0.1
done
NGINX_BYTES="$(curl -s -X POST -d "$BODY" "http://127.0.0.1:$NGINX_PORT/" | wc -c)"

rps() {  # url -> requests/sec (also keeps wrk's full output)
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/post.lua" "$1" \
    >"$WORK/wrk.out" 2>&1
  cat "$WORK/wrk.out" >&2
  if grep -q "Non-2xx" "$WORK/wrk.out"; then
    echo "http_vs_nginx: non-2xx responses from $1" >&2
  fi
  awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out"
}
latency() { awk '/Latency/ {print $2; exit}' "$WORK/wrk.out"; }

echo "== serval ==" >&2
SERVAL_RPS="$(rps "$URL")"
SERVAL_LAT="$(latency)"
echo "== nginx ==" >&2
NGINX_RPS="$(rps "http://127.0.0.1:$NGINX_PORT/")"
NGINX_LAT="$(latency)"
RATIO="$(awk -v a="$SERVAL_RPS" -v b="$NGINX_RPS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"

out="$ROOT/bench/results/$(date -u +%F)-http-vs-nginx.md"
mkdir -p "$(dirname "$out")"
cat > "$out" <<MD
# HTTP frontend vs nginx ($(date -u +%FT%TZ))

wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s, POST of a ${#BODY}-byte KServe v2
JSON infer request (16 x FP32). serval runs the identity model
(\`--log-level warn\`, default HTTP threads); nginx ($(nproc) workers) returns
a fixed ${NGINX_BYTES}-byte response, the same bytes serval returns
(${#RESPONSE} bytes). Same machine, same run, $(nproc) cores shared with wrk.

| server | requests/s | mean latency |
| --- | ---: | ---: |
| serval (identity model) | $SERVAL_RPS | $SERVAL_LAT |
| nginx (fixed response) | $NGINX_RPS | $NGINX_LAT |

serval / nginx = **$RATIO** (goal for later tuning: >= 0.4).
MD
cat "$out"
