#!/usr/bin/env bash
# Websocket soak: CONNS websocket connections keep pushing 1 KiB messages through
# ferrohub-proxy to an echo backend (ws_bench, Rust) on loopback for SOAK_SECONDS, while the
# proxy's resident memory is sampled every 10 s. Memory "stayed flat" when the last sample is
# at most 10% above the largest sample of the first minute (growth that keeps going is a leak;
# the first minute is allowed for pools and buffers to reach their working size).
#
#   bash bench/proxy_soak.sh                       # 10 minutes, 100 connections
#   SOAK_SECONDS=120 CONNS=50 bash bench/proxy_soak.sh
#   SOAK_CHP=1 bash bench/proxy_soak.sh            # then the same for configurable-http-proxy
#   RECONNECT=100 bash bench/proxy_soak.sh         # churn: each connection closes after 100
#                                                  # messages and a new one opens
#
# Exits non-zero if a connection failed or memory did not stay flat.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SOAK_SECONDS=${SOAK_SECONDS:-600}
CONNS=${CONNS:-100}
RECONNECT=${RECONNECT:-0}
SOAK_CHP=${SOAK_CHP:-0}
[ "$SOAK_CHP" = 1 ] && need_debs node-configurable-http-proxy

echo "== building ferrohub-proxy and ws_bench (release)" >&2
cargo build --release -q -p ferrohub-proxy --bin ferrohub-proxy --example ws_bench

bench_scratch

start_ws_echo "$work/echo.port"; pids+=("$ECHO_PID")

# soak KIND: run the soak through a fresh proxy of that kind; prints the series and verdict.
soak() {
    local kind=$1
    start_proxy "$kind" "http://127.0.0.1:$ECHO"; pids+=("$PROXY_PID")
    local proxy=$PROXY_PID
    target/release/examples/ws_bench soak "ws://127.0.0.1:$PROXY_PORT/soak" "$CONNS" "$SOAK_SECONDS" \
        "$RECONNECT" > "$work/$kind.count" &
    local client=$!
    local samples=() t=0
    while kill -0 "$client" 2>/dev/null; do
        samples+=("$(rss_kib "$proxy")")
        echo "$kind t=${t}s rss=${samples[-1]} KiB" >&2
        for _ in $(seq 1 100); do kill -0 "$client" 2>/dev/null && sleep 0.1; done
        t=$((t + 10))
    done
    local ok=yes
    wait "$client" || ok=no
    local messages opened
    read -r messages opened < "$work/$kind.count" || true
    local verdict=0
    python3 - "$kind" "$ok" "${messages:-0}" "${opened:-0}" "$SOAK_SECONDS" "$CONNS" "${samples[@]}" <<'PY' || verdict=1
import sys
kind, ok, messages, opened, secs, conns = sys.argv[1:7]
s = [int(v) for v in sys.argv[7:]]
first_min = max(s[:6])
flat = s[-1] <= first_min * 1.10
print(f"{kind}: {conns} websockets at a time ({opened} opened), {secs} s, {messages} messages echoed, connections ok: {ok}")
print(f"{kind}: RSS every 10 s (MiB): " + " ".join(f"{v/1024:.1f}" for v in s))
print(f"{kind}: first-minute max {first_min/1024:.1f} MiB, last {s[-1]/1024:.1f} MiB: "
      + ("flat" if flat else "GREW"))
sys.exit(0 if flat and ok == "yes" else 1)
PY
    kill "$proxy" 2>/dev/null || true
    return $verdict
}

status=0
soak ferrohub || status=1
if [ "$SOAK_CHP" = 1 ]; then soak chp || status=1; fi
exit $status
