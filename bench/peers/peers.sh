#!/usr/bin/env bash
# The peers of bench/compare.sh, each on a free loopback port, serving the
# same model file with the same KServe v2 JSON request/response (see
# ../../docs/benchmarking.md). Source this file for the functions, or run
#   bench/peers/peers.sh KIND MODEL_DIR [WORKERS]
# to start one peer in the foreground (Ctrl-C stops it); KIND is fastapi,
# flask, gunicorn-nginx, gunicorn or nginx-fixed (MODEL_DIR is then a file
# holding the fixed response body).
#
# Every started process id lands in PEER_PIDS; peer_stop_all stops them
# (call it from an EXIT trap). The last started peer's port is PEER_PORT
# and its main process id PEER_PID.
PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEER_PY=/usr/bin/python3
PEER_PIDS=()
PEER_WORK="${PEER_WORK:-$(mktemp -d /tmp/serval-peers.XXXXXX)}"

peer_free_port() {
  "$PEER_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# peer_wait_ready URL PID LOG: until URL answers 200 (120 s at most).
peer_wait_ready() {
  local i
  for i in $(seq 1 1200); do
    if curl -sf -o /dev/null "$1"; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then
      echo "peer exited before it was ready; log $3:" >&2
      tail -30 "$3" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "peer not ready after 120 s: $1" >&2
  return 1
}

# The model a Python peer serves: PEER_MODEL_FILE, PEER_MODEL_NAME and
# PEER_OUTPUT_NAME from a serval model directory holding 1/model.pt.
_peer_model_env() {  # MODEL_DIR
  local dir="$1"
  export PEER_MODEL_FILE="$dir/1/model.pt"
  export PEER_MODEL_NAME="$(basename "$dir")"
  export PEER_OUTPUT_NAME="$(grep -A3 '^output' "$dir/config.pbtxt" \
    | sed -n 's/.*name: *"\([^"]*\)".*/\1/p' | head -1)"
  [ -n "$PEER_OUTPUT_NAME" ] || PEER_OUTPUT_NAME=OUTPUT__0
  [ -f "$PEER_MODEL_FILE" ] || { echo "peers: no $PEER_MODEL_FILE" >&2; return 1; }
}

_peer_launch() {  # LOG CMD... : starts in the background, records the pid
  local log="$1"; shift
  (cd "$PEERS_DIR" && exec "$@") >"$log" 2>&1 &
  PEER_PID=$!
  PEER_PIDS+=("$PEER_PID")
}

# FastAPI + uvicorn, WORKERS processes (default 1); torch threads = cores /
# workers, as for gunicorn below.
peer_start_fastapi() {  # MODEL_DIR [WORKERS]
  _peer_model_env "$1" || return 1
  local workers="${2:-1}"
  local torch_threads=$(( $(nproc) / workers )); [ "$torch_threads" -ge 1 ] || torch_threads=1
  PEER_PORT="$(peer_free_port)"
  PEER_TORCH_THREADS="$torch_threads" _peer_launch "$PEER_WORK/fastapi-$workers.log" \
    "$PEER_PY" -m uvicorn fastapi_app:app --host 127.0.0.1 --port "$PEER_PORT" \
    --workers "$workers" --log-level warning --no-access-log
  peer_wait_ready "http://127.0.0.1:$PEER_PORT/v2/health/ready" "$PEER_PID" "$PEER_WORK/fastapi-$workers.log"
}

# Flask under gunicorn: WORKERS processes (default 1) x THREADS threads
# (default 4); torch threads = cores / workers so workers never
# oversubscribe the machine (the rule serval follows for instances).
peer_start_gunicorn() {  # MODEL_DIR [WORKERS] [THREADS] [BIND]
  _peer_model_env "$1" || return 1
  local workers="${2:-1}" threads="${3:-4}" bind="${4:-}"
  local torch_threads=$(( $(nproc) / workers )); [ "$torch_threads" -ge 1 ] || torch_threads=1
  if [ -z "$bind" ]; then PEER_PORT="$(peer_free_port)"; bind="127.0.0.1:$PEER_PORT"; fi
  PEER_TORCH_THREADS="$torch_threads" _peer_launch "$PEER_WORK/gunicorn-$workers.log" \
    "$PEER_PY" -m gunicorn -w "$workers" --threads "$threads" -b "$bind" \
    --timeout 600 --log-level warning flask_app:app
  peer_wait_ready "http://$bind/v2/health/ready" "$PEER_PID" "$PEER_WORK/gunicorn-$workers.log"
}

_peer_nginx_conf() {  # NAME PORT SERVER_BLOCK_BODY [UPSTREAM]
  local dir="$PEER_WORK/nginx-$1"
  mkdir -p "$dir/logs"
  cat > "$dir/nginx.conf" <<CONF
worker_processes $(nproc);
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
  client_max_body_size 64m;
  ${4:-}
  server {
    listen 127.0.0.1:$2;
    $3
  }
}
CONF
  echo "$dir"
}

_peer_start_nginx() {  # DIR
  local nginx; nginx="$(command -v nginx || echo /usr/sbin/nginx)"
  _peer_launch "$1/logs/stderr.log" "$nginx" -p "$1" -c "$1/nginx.conf" -g 'daemon off;'
}

# gunicorn (Flask, WORKERS sync workers) behind nginx: the multi-process set-up.
peer_start_gunicorn_nginx() {  # MODEL_DIR [WORKERS]
  local workers="${2:-2}" upstream_port
  upstream_port="$(peer_free_port)"
  peer_start_gunicorn "$1" "$workers" 1 "127.0.0.1:$upstream_port" || return 1
  PEER_PORT="$(peer_free_port)"
  local dir
  dir="$(_peer_nginx_conf gunicorn "$PEER_PORT" \
    "location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; }" \
    "upstream app { server 127.0.0.1:$upstream_port; keepalive 64; }")"
  _peer_start_nginx "$dir"
  peer_wait_ready "http://127.0.0.1:$PEER_PORT/v2/health/ready" "$PEER_PID" "$dir/logs/stderr.log"
}

# nginx answering every request with the bytes of RESPONSE_FILE: the
# ceiling of HTTP handling on this machine.
peer_start_nginx_fixed() {  # RESPONSE_FILE
  PEER_PORT="$(peer_free_port)"
  local dir body
  body="$(sed "s/'/\\\\'/g" "$1")"
  dir="$(_peer_nginx_conf fixed "$PEER_PORT" \
    "location / { default_type application/json; return 200 '$body'; }")"
  _peer_start_nginx "$dir"
  peer_wait_ready "http://127.0.0.1:$PEER_PORT/" "$PEER_PID" "$dir/logs/stderr.log"
}

# Proportional set size (kB) of a process and its descendants: shared pages
# counted once overall, so N workers are compared fairly with N instances.
peer_pss_kb() {  # PID
  local pids=("$1") all=() p total=0 v
  while [ ${#pids[@]} -gt 0 ]; do
    p="${pids[0]}"; pids=("${pids[@]:1}")
    all+=("$p")
    for v in $(cat /proc/"$p"/task/*/children 2>/dev/null); do pids+=("$v"); done
  done
  for p in "${all[@]}"; do
    v="$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null)"
    total=$(( total + ${v:-0} ))
  done
  echo "$total"
}

# Resident set size (kB) of a process and its descendants, summed.
peer_rss_kb() {  # PID
  local pids=("$1") p total=0 v
  while [ ${#pids[@]} -gt 0 ]; do
    p="${pids[0]}"; pids=("${pids[@]:1}")
    v="$(awk '/^VmRSS:/ {print $2}' /proc/"$p"/status 2>/dev/null)"
    total=$(( total + ${v:-0} ))
    for v in $(cat /proc/"$p"/task/*/children 2>/dev/null); do pids+=("$v"); done
  done
  echo "$total"
}

# Stops one started process (TERM, then KILL after 10 s).
peer_stop() {  # PID
  local pid="$1" i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

peer_stop_all() {
  local pid
  for pid in "${PEER_PIDS[@]}"; do peer_stop "$pid"; done
  PEER_PIDS=()
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ $# -ge 2 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
  trap 'peer_stop_all; rm -rf "$PEER_WORK"' EXIT
  dir="$(cd "$2" 2>/dev/null && pwd || echo "$2")"
  case "$1" in
    fastapi) peer_start_fastapi "$dir" "${3:-1}" ;;
    flask) peer_start_gunicorn "$dir" 1 4 ;;
    gunicorn) peer_start_gunicorn "$dir" "${3:-1}" 1 ;;
    gunicorn-nginx) peer_start_gunicorn_nginx "$dir" "${3:-2}" ;;
    nginx-fixed) peer_start_nginx_fixed "$2" ;;
    *) echo "unknown peer '$1'" >&2; exit 2 ;;
  esac
  echo "$1 on http://127.0.0.1:$PEER_PORT (pid $PEER_PID); Ctrl-C stops it"
  wait "$PEER_PID"
fi
