#!/usr/bin/env bash
# Proxy benchmark: ferrohub-proxy beside configurable-http-proxy (Debian's
# node-configurable-http-proxy) and nginx proxy_pass, in one run, same backend (nginx serving
# static files), loopback only, with wrk.
#
#   bash bench/proxy.sh                      # full run (about 6 minutes), prints a Markdown table
#   DURATION=5 ROUNDS=1 bash bench/proxy.sh  # quicker
#
# Measures: req/s and p99 latency for 1 KiB responses with 64 connections, and the proxy's own
# CPU time per request (user + system, from /proc); throughput for 1 MiB responses;
# ferrohub-proxy with 10 and with 10,000 routes, and its resident memory.
#
# The close contests (nginx against ferrohub-proxy, 10 against 10,000 routes) run in ROUNDS
# interleaved rounds, alternating which goes first, and each figure is the median of the
# rounds: a burst of load elsewhere on the machine then hits both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-5}

need_debs wrk nginx node-configurable-http-proxy
echo "== building ferrohub-proxy (release)" >&2
cargo build --release -q -p ferrohub-proxy
bench_scratch

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
# Two nginx instances, so the proxy's CPU time can be read apart from the backend's.
nginx_conf() {
    cat <<CONF
worker_processes auto;
pid $work/nginx-$1.pid;
error_log $work/nginx-$1-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    $2
}
CONF
}
nginx_conf backend "server { listen 127.0.0.1:$BACKEND; root $work/www; }" > "$work/backend.conf"
nginx_conf proxy "upstream backend { server 127.0.0.1:$BACKEND; keepalive 128; }
    server {
        listen 127.0.0.1:$NGINX_PROXY;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }
    }" > "$work/proxy.conf"
nginx -c "$work/backend.conf" -g 'daemon off;' &
pids+=($!)
nginx -c "$work/proxy.conf" -g 'daemon off;' &
NGINX_PID=$!
pids+=("$NGINX_PID")
wait_port "$BACKEND"; wait_port "$NGINX_PROXY"

start_proxy chp "http://127.0.0.1:$BACKEND"; pids+=("$PROXY_PID"); CHP=$PROXY_PORT
start_proxy ferrohub "http://127.0.0.1:$BACKEND"; pids+=("$PROXY_PID"); FH=$PROXY_PORT; FH_PID=$PROXY_PID
FH10=$FH; FH10_API=$PROXY_API
start_proxy ferrohub "http://127.0.0.1:$BACKEND"; pids+=("$PROXY_PID"); FH10K=$PROXY_PORT; FH10K_PID=$PROXY_PID
FH10K_API=$PROXY_API

add_routes() {
    python3 - "$1" "$2" "$BACKEND" <<'PY'
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
add_routes "$FH10_API" 10
add_routes "$FH10K_API" 10000

# The processes that do a proxy's work: nginx's workers are the master's children.
nginx_proxy_pids() { pgrep -P "$NGINX_PID" | tr '\n' ' '; }
ticks_of() { local t=0; for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done; echo "$t"; }

# run_wrk URL CONNS [PID...]: "req/s p99 transfer/s cpu-µs-per-request" (the CPU column is
# that of the PIDs given, else "-").
run_wrk() {
    local url=$1 conns=$2; shift 2
    local before=0
    [ $# -gt 0 ] && before=$(ticks_of "$@")
    wrk -t2 -c"$conns" -d"${DURATION}s" --latency "$url" > "$work/wrk.out"
    if grep -q "Non-2xx" "$work/wrk.out"; then
        echo "error responses from $url:" >&2; cat "$work/wrk.out" >&2; exit 1
    fi
    local rps p99 xfer n cpu=-
    rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
    xfer=$(awk '/^Transfer\/sec/ {print $2}' "$work/wrk.out")
    n=$(awk '/requests in/ {print $1}' "$work/wrk.out")
    if [ $# -gt 0 ]; then
        cpu=$(python3 -c "print(f'{($(ticks_of "$@") - $before) * 1e6 / $(ticks_per_sec) / $n:.1f}')")
    fi
    echo "$rps $p99 $xfer $cpu"
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# p99 figures come as "1.85ms" or "850.00us": compare them in microseconds.
to_us() {
    python3 -c '
import re, sys
for line in sys.stdin:
    v, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", line.strip()).groups()
    print(float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[unit])'
}

res=$(run_wrk "http://127.0.0.1:$BACKEND/1k.bin" "$CONNS") || exit 1; read -r d_rps d_p99 _ _ <<< "$res"
res=$(run_wrk "http://127.0.0.1:$CHP/1k.bin" "$CONNS") || exit 1; read -r c_rps c_p99 _ _ <<< "$res"
: > "$work/nginx"; : > "$work/fh"; : > "$work/r10"; : > "$work/r10k"
for round in $(seq 1 "$ROUNDS"); do
    nginx_run() { run_wrk "http://127.0.0.1:$NGINX_PROXY/1k.bin" "$CONNS" $(nginx_proxy_pids) >> "$work/nginx"; }
    fh_run() { run_wrk "http://127.0.0.1:$FH/1k.bin" "$CONNS" "$FH_PID" >> "$work/fh"; }
    r10_run() { run_wrk "http://127.0.0.1:$FH10/user/u5/1k.bin" "$CONNS" >> "$work/r10"; }
    r10k_run() { run_wrk "http://127.0.0.1:$FH10K/user/u5000/1k.bin" "$CONNS" >> "$work/r10k"; }
    if [ $((round % 2)) = 1 ]; then nginx_run; fh_run; r10_run; r10k_run
    else fh_run; nginx_run; r10k_run; r10_run; fi
done
col() { awk -v c="$2" '{print $c}' "$work/$1"; }
n_rps=$(col nginx 1 | median); f_rps=$(col fh 1 | median)
n_p99=$(col nginx 2 | to_us | median); f_p99=$(col fh 2 | to_us | median)
n_cpu=$(col nginx 4 | median); f_cpu=$(col fh 4 | median)
r10=$(col r10 1 | median); r10k=$(col r10k 1 | median)
d_p99=$(echo "$d_p99" | to_us); c_p99=$(echo "$c_p99" | to_us)

res=$(run_wrk "http://127.0.0.1:$BACKEND/1m.bin" 16) || exit 1; read -r _ _ d_x _ <<< "$res"
res=$(run_wrk "http://127.0.0.1:$NGINX_PROXY/1m.bin" 16) || exit 1; read -r _ _ n_x _ <<< "$res"
res=$(run_wrk "http://127.0.0.1:$CHP/1m.bin" 16) || exit 1; read -r _ _ c_x _ <<< "$res"
res=$(run_wrk "http://127.0.0.1:$FH/1m.bin" 16) || exit 1; read -r _ _ f_x _ <<< "$res"

us() { printf '%.0f µs' "$1"; }
echo "| measurement | direct (nginx) | nginx proxy_pass | configurable-http-proxy | ferrohub-proxy |"
echo "|---|---|---|---|---|"
echo "| 1 KiB, $CONNS connections: req/s (median of $ROUNDS rounds for the last two) | $d_rps | $n_rps | $c_rps | $f_rps |"
echo "| 1 KiB, $CONNS connections: p99 latency | $(us "$d_p99") | $(us "$n_p99") | $(us "$c_p99") | $(us "$f_p99") |"
echo "| 1 KiB: the proxy's CPU per request (user + system) | | $n_cpu µs | | $f_cpu µs |"
echo "| 1 MiB, 16 connections: transfer/s | $d_x | $n_x | $c_x | $f_x |"
echo "| ferrohub-proxy, 1 KiB through /user/uN/: 10 routes vs 10,000 routes (req/s, median of $ROUNDS) | | | | $r10 vs $r10k |"
echo "| ferrohub-proxy resident memory with 10,000 routes, after the runs | | | | $(( $(rss_kib "$FH10K_PID") / 1024 )) MiB |"
