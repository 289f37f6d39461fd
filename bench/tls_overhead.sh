#!/usr/bin/env bash
# What TLS costs serval's HTTP frontend: wrk POSTing a KServe v2 JSON infer
# request to the identity model over plain HTTP and over HTTPS (TLS 1.3,
# P-256 certificate made here), on kept-alive connections and with a new
# connection (a full handshake) per request; and the same model behind
# nginx terminating TLS, the usual alternative. All on loopback, in the
# same run. Appends to bench/results/<date>-tls.md.
#
#   bench/tls_overhead.sh [--seconds N] [--connections C]
#   (BUILD_DIR defaults to ./build; needs build/serval, wrk, openssl, nginx)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
DURATION=10
CONNECTIONS=32
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--connections C]" >&2; exit 2 ;;
  esac
done
SERVAL="$BUILD_DIR/serval"
BACKENDS="$BUILD_DIR/backends"
for tool in wrk openssl curl; do
  command -v "$tool" >/dev/null || { echo "tls_overhead: $tool not installed" >&2; exit 1; }
done
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$SERVAL" ] || { echo "tls_overhead: $SERVAL missing; build first" >&2; exit 1; }

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 2>/dev/null
mkdir -p "$WORK/repo/identity_fp32/1"
cat > "$WORK/repo/identity_fp32/config.pbtxt" <<'PB'
name: "identity_fp32"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
PB
BODY='{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[16],"data":[0.5,1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5,9.5,10.5,11.5,12.5,13.5,14.5,15.5]}]}'
for mode in keep close; do
  {
    echo 'wrk.method = "POST"'
    echo "wrk.body = '$BODY'"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    [ "$mode" = close ] && echo 'wrk.headers["Connection"] = "close"'
  } > "$WORK/$mode.lua"
done

start_serval() {  # port extra-args... ; waits until ready
  local port="$1"; shift
  "$SERVAL" serve --model-repository "$WORK/repo" --backend-directory "$BACKENDS" \
    --http-port "$port" --grpc-port "$(free_port)" --allow-metrics=false \
    --log-level warn "$@" >>"$WORK/serval.log" 2>&1 &
  PIDS+=($!)
}
wait_url() {
  for _ in $(seq 1 300); do
    if curl -skf -o /dev/null "$1/v2/health/ready"; then return 0; fi
    sleep 0.1
  done
  echo "tls_overhead: $1 never became ready" >&2; cat "$WORK/serval.log" >&2; exit 1
}

PLAIN_PORT="$(free_port)"; TLS_PORT="$(free_port)"; NGINX_PORT="$(free_port)"
start_serval "$PLAIN_PORT"
start_serval "$TLS_PORT" --http-use-ssl=true --http-server-cert "$WORK/tls.crt" \
  --http-server-key "$WORK/tls.key"
mkdir -p "$WORK/nginx/logs"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
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
  upstream serval { server 127.0.0.1:$PLAIN_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $WORK/tls.crt;
    ssl_certificate_key $WORK/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://serval;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' \
  2>"$WORK/nginx/logs/stderr.log" &
PIDS+=($!)
wait_url "http://127.0.0.1:$PLAIN_PORT"
wait_url "https://127.0.0.1:$TLS_PORT"
wait_url "https://127.0.0.1:$NGINX_PORT"

run() {  # url mode -> "rps p50 p99"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/$2.lua" \
    "$1/v2/models/identity_fp32/infer" >"$WORK/wrk.out" 2>&1
  if grep -q "Non-2xx\|Socket errors" "$WORK/wrk.out"; then
    echo "tls_overhead: errors against $1 ($2):" >&2; cat "$WORK/wrk.out" >&2
  fi
  awk '/Requests\/sec/ {r=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
       END {print r, p50, p99}' "$WORK/wrk.out"
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
declare -A R
for mode in keep close; do
  R[plain_$mode]="$(run "http://127.0.0.1:$PLAIN_PORT" $mode)"
  R[tls_$mode]="$(run "https://127.0.0.1:$TLS_PORT" $mode)"
  R[nginx_$mode]="$(run "https://127.0.0.1:$NGINX_PORT" $mode)"
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
rps() { echo "${R[$1]}" | cut -d' ' -f1; }
ratio() { awk -v a="$(rps "$1")" -v b="$(rps "$2")" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() { set -- ${R[$1]}; echo "$1 | $2 | $3"; }

out="$ROOT/bench/results/$(date -u +%F)-tls.md"
mkdir -p "$(dirname "$out")"
{
  [ -s "$out" ] || printf '# TLS overhead (bench/tls_overhead.sh)\n\n'
  cat <<MD
## $(date -u '+%F %H:%M') wrk -t2 -c$CONNECTIONS -d${DURATION}s, identity model, 16 x FP32 JSON (load average $LOAD_BEFORE before, $LOAD_AFTER after)

| server | connections | requests/s | p50 | p99 |
| --- | --- | ---: | ---: | ---: |
| serval, plain HTTP | kept alive | $(row plain_keep) |
| serval, HTTPS | kept alive | $(row tls_keep) |
| nginx HTTPS -> serval HTTP | kept alive | $(row nginx_keep) |
| serval, plain HTTP | new per request | $(row plain_close) |
| serval, HTTPS | new per request (full handshake) | $(row tls_close) |
| nginx HTTPS -> serval HTTP | new per request (full handshake) | $(row nginx_close) |

- kept alive: serval HTTPS / plain = **$(ratio tls_keep plain_keep)**; serval HTTPS / nginx terminating TLS = **$(ratio tls_keep nginx_keep)**
- new connection per request: serval HTTPS / plain = **$(ratio tls_close plain_close)**; serval HTTPS / nginx = **$(ratio tls_close nginx_close)**

MD
} >> "$out"
tail -n 16 "$out"
