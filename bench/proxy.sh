#!/usr/bin/env bash
# Proxy benchmark: ferrohub-proxy beside configurable-http-proxy (Debian's
# node-configurable-http-proxy) and nginx proxy_pass, in one run, same backend (nginx serving
# static files), loopback only, with wrk.
#
#   bash bench/proxy.sh            # full run (about 3 minutes), prints a Markdown table
#   DURATION=5 bash bench/proxy.sh # shorter runs
#
# Measures: req/s and p99 latency for 1 KiB responses with 64 connections; throughput for
# 1 MiB responses; ferrohub-proxy with 10 and with 10,000 routes, and its resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
for p in wrk nginx node-configurable-http-proxy; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian's configurable-http-proxy finds its modules here when node comes from elsewhere.
export NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs

echo "== building ferrohub-proxy (release)" >&2
cargo build --release -q -p ferrohub-proxy

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 100); do
        (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing answers on port $1" >&2
    exit 1
}

# The backend: nginx serving 1 KiB and 1 MiB files (readable by nginx's unprivileged workers).
chmod 755 "$work"
mkdir -p "$work/www"
head -c 1024 /dev/urandom > "$work/www/1k.bin"
head -c 1048576 /dev/urandom > "$work/www/1m.bin"
# The proxy keeps the route prefix in the forwarded path, so routed files live under it.
for u in u5 u5000; do mkdir -p "$work/www/user/$u" && cp "$work/www/1k.bin" "$work/www/user/$u/"; done
chmod -R a+rX "$work/www"
BACKEND=$(free_port)
NGINX_PROXY=$(free_port)
cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    upstream backend { server 127.0.0.1:$BACKEND; keepalive 128; }
    server { listen 127.0.0.1:$BACKEND; root $work/www; }
    server {
        listen 127.0.0.1:$NGINX_PROXY;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
nginx -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_port "$BACKEND"

CHP=$(free_port); CHP_API=$(free_port)
configurable-http-proxy --ip 127.0.0.1 --port "$CHP" --api-ip 127.0.0.1 --api-port "$CHP_API" \
    --default-target "http://127.0.0.1:$BACKEND" --log-level error &
pids+=($!)
FH=$(free_port); FH_API=$(free_port)
export CONFIGPROXY_AUTH_TOKEN=bench-token
target/release/ferrohub-proxy --ip 127.0.0.1 --port "$FH" --api-ip 127.0.0.1 --api-port "$FH_API" \
    --default-target "http://127.0.0.1:$BACKEND" --log-level error &
FH_PID=$!
pids+=($FH_PID)
wait_port "$CHP"; wait_port "$FH"; wait_port "$NGINX_PROXY"

# wrk's summary: requests/s, p99 latency, transfer/s.
run_wrk() {
    local url=$1 conns=$2
    wrk -t2 -c"$conns" -d"${DURATION}s" --latency "$url" > "$work/wrk.out"
    if grep -q "Non-2xx" "$work/wrk.out"; then
        echo "error responses from $url:" >&2; cat "$work/wrk.out" >&2; exit 1
    fi
    local rps p99 xfer
    rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
    xfer=$(awk '/^Transfer\/sec/ {print $2}' "$work/wrk.out")
    echo "$rps $p99 $xfer"
}

add_routes() {
    python3 - "$FH_API" "$1" "$BACKEND" <<'PY'
import http.client, json, sys
port, count, backend = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port)
for i in range(count):
    body = json.dumps({"target": f"http://127.0.0.1:{backend}", "user": f"u{i}"})
    conn.request("POST", f"/api/routes/user/u{i}", body,
                 {"Authorization": "token bench-token", "Content-Type": "application/json"})
    r = conn.getresponse(); r.read()
    assert r.status == 201, r.status
PY
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

echo "| measurement | direct (nginx) | nginx proxy_pass | configurable-http-proxy | ferrohub-proxy |"
echo "|---|---|---|---|---|"
res=$(run_wrk "http://127.0.0.1:$BACKEND/1k.bin" "$CONNS") || exit 1; read -r d_rps d_p99 _ <<< "$res"
res=$(run_wrk "http://127.0.0.1:$NGINX_PROXY/1k.bin" "$CONNS") || exit 1; read -r n_rps n_p99 _ <<< "$res"
res=$(run_wrk "http://127.0.0.1:$CHP/1k.bin" "$CONNS") || exit 1; read -r c_rps c_p99 _ <<< "$res"
res=$(run_wrk "http://127.0.0.1:$FH/1k.bin" "$CONNS") || exit 1; read -r f_rps f_p99 _ <<< "$res"
echo "| 1 KiB, $CONNS connections: req/s | $d_rps | $n_rps | $c_rps | $f_rps |"
echo "| 1 KiB, $CONNS connections: p99 latency | $d_p99 | $n_p99 | $c_p99 | $f_p99 |"
res=$(run_wrk "http://127.0.0.1:$BACKEND/1m.bin" 16) || exit 1; read -r _ _ d_x <<< "$res"
res=$(run_wrk "http://127.0.0.1:$NGINX_PROXY/1m.bin" 16) || exit 1; read -r _ _ n_x <<< "$res"
res=$(run_wrk "http://127.0.0.1:$CHP/1m.bin" 16) || exit 1; read -r _ _ c_x <<< "$res"
res=$(run_wrk "http://127.0.0.1:$FH/1m.bin" 16) || exit 1; read -r _ _ f_x <<< "$res"
echo "| 1 MiB, 16 connections: transfer/s | $d_x | $n_x | $c_x | $f_x |"

add_routes 10
res=$(run_wrk "http://127.0.0.1:$FH/user/u5/1k.bin" "$CONNS") || exit 1; read -r r10 _ _ <<< "$res"
add_routes 10000
res=$(run_wrk "http://127.0.0.1:$FH/user/u5000/1k.bin" "$CONNS") || exit 1; read -r r10k _ _ <<< "$res"
echo "| ferrohub-proxy, 1 KiB through /user/uN/: 10 routes vs 10,000 routes (req/s) | | | | $r10 vs $r10k |"
echo "| ferrohub-proxy resident memory with 10,000 routes, after the runs | | | | $(( $(rss_kib "$FH_PID") / 1024 )) MiB |"
