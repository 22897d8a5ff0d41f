#!/usr/bin/env bash
# Websocket echo round trip: the same echo backend (ws_bench echo, Rust) reached directly,
# through configurable-http-proxy (Debian's node-configurable-http-proxy) and through
# ferrohub-proxy, one connection, 64-byte binary messages, one at a time, loopback only.
#
#   bash bench/proxy_ws.sh                 # 20,000 round trips each, prints a Markdown table
#   MESSAGES=2000 bash bench/proxy_ws.sh   # quicker
#
# "Added" is the proxy's figure minus the direct one: what the extra hop costs.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
MESSAGES=${MESSAGES:-20000}
need_debs node-configurable-http-proxy

echo "== building ferrohub-proxy and ws_bench (release)" >&2
cargo build --release -q -p ferrohub-proxy --bin ferrohub-proxy --example ws_bench

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

start_ws_echo "$work/echo.port"; pids+=("$ECHO_PID")
start_proxy chp "http://127.0.0.1:$ECHO"; pids+=("$PROXY_PID"); CHP=$PROXY_PORT
start_proxy ferrohub "http://127.0.0.1:$ECHO"; pids+=("$PROXY_PID"); FH=$PROXY_PORT

rtt() { target/release/examples/ws_bench rtt "ws://127.0.0.1:$1/ws" "$MESSAGES"; }
read -r d_med d_p99 <<< "$(rtt "$ECHO")"
read -r c_med c_p99 <<< "$(rtt "$CHP")"
read -r f_med f_p99 <<< "$(rtt "$FH")"
added() { python3 -c "print(f'{$1 - $2:.1f}')"; }

echo "| websocket echo, 64 B, $MESSAGES round trips | median RTT (µs) | p99 RTT (µs) | added by the proxy, median (µs) | added by the proxy, p99 (µs) |"
echo "|---|---|---|---|---|"
echo "| direct | $d_med | $d_p99 | | |"
echo "| configurable-http-proxy | $c_med | $c_p99 | $(added "$c_med" "$d_med") | $(added "$c_p99" "$d_p99") |"
echo "| ferrohub-proxy | $f_med | $f_p99 | $(added "$f_med" "$d_med") | $(added "$f_p99" "$d_p99") |"
