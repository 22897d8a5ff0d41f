#!/usr/bin/env bash
# Websocket echo round trip: the same echo backend (ws_bench echo, Rust) reached directly,
# through configurable-http-proxy (Debian's node-configurable-http-proxy), through
# ferrohub-proxy as it starts by default, and through ferrohub-proxy with busy polling on
# (`--websocket-busy-poll 100`); one connection, 64-byte binary messages, one at a time,
# loopback only. Latency and the proxy's own CPU time per round trip (two messages) are both
# reported: busy polling trades CPU for latency, which a shared server should not by default.
#
#   bash bench/proxy_ws.sh                 # 20,000 round trips each; table in bench/RESULTS.md
#   MESSAGES=2000 bash bench/proxy_ws.sh   # quicker
#
# "Added" is the proxy's figure minus the direct one: what the extra hop costs. All are
# measured in ROUNDS interleaved rounds (default 5) and each figure is the median of the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
MESSAGES=${MESSAGES:-20000}
ROUNDS=${ROUNDS:-5}
need_debs node-configurable-http-proxy

echo "== building ferrohub-proxy and ws_bench (release)" >&2
cargo build --release -q -p ferrohub-proxy --bin ferrohub-proxy --example ws_bench

bench_scratch

start_ws_echo "$work/echo.port"; pids+=("$ECHO_PID")
start_proxy chp "http://127.0.0.1:$ECHO"; pids+=("$PROXY_PID"); CHP=$PROXY_PORT; CHP_PID=$PROXY_PID
start_proxy ferrohub "http://127.0.0.1:$ECHO"; pids+=("$PROXY_PID"); FH=$PROXY_PORT; FH_PID=$PROXY_PID
FERROHUB_PROXY_ARGS="${FERROHUB_PROXY_ARGS:-} --websocket-busy-poll 100" start_proxy ferrohub "http://127.0.0.1:$ECHO"
pids+=("$PROXY_PID"); BP=$PROXY_PORT; BP_PID=$PROXY_PID

# Interleaved rounds, so a burst of load elsewhere on the machine hits all three alike; each
# figure is the median over the rounds.
rtt() { target/release/examples/ws_bench rtt "ws://127.0.0.1:$1/ws" "$((MESSAGES / ROUNDS))"; }
# The proxies' own CPU time over their rounds: what each round trip costs them.
c_ticks=0; f_ticks=0; b_ticks=0
for _ in $(seq 1 "$ROUNDS"); do
    rtt "$ECHO" >> "$work/direct"
    t=$(cpu_ticks "$CHP_PID"); rtt "$CHP" >> "$work/chp"; c_ticks=$((c_ticks + $(cpu_ticks "$CHP_PID") - t))
    t=$(cpu_ticks "$FH_PID"); rtt "$FH" >> "$work/fh"; f_ticks=$((f_ticks + $(cpu_ticks "$FH_PID") - t))
    t=$(cpu_ticks "$BP_PID"); rtt "$BP" >> "$work/bp"; b_ticks=$((b_ticks + $(cpu_ticks "$BP_PID") - t))
done
cpu_us() { python3 -c "print(f'{$1 * 1e6 / $(ticks_per_sec) / $MESSAGES:.1f}')"; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
read -r d_med d_p99 <<< "$(cut -d' ' -f1 "$work/direct" | median) $(cut -d' ' -f2 "$work/direct" | median)"
read -r c_med c_p99 <<< "$(cut -d' ' -f1 "$work/chp" | median) $(cut -d' ' -f2 "$work/chp" | median)"
read -r f_med f_p99 <<< "$(cut -d' ' -f1 "$work/fh" | median) $(cut -d' ' -f2 "$work/fh" | median)"
read -r b_med b_p99 <<< "$(cut -d' ' -f1 "$work/bp" | median) $(cut -d' ' -f2 "$work/bp" | median)"
added() { python3 -c "print(f'{$1 - $2:.1f}')"; }

{
echo "| websocket echo, 64 B, $MESSAGES round trips in $ROUNDS rounds | median RTT (µs) | p99 RTT (µs) | added by the proxy, median (µs) | added by the proxy, p99 (µs) | proxy CPU per round trip (µs) |"
echo "|---|---|---|---|---|---|"
echo "| direct | $d_med | $d_p99 | | | |"
echo "| configurable-http-proxy | $c_med | $c_p99 | $(added "$c_med" "$d_med") | $(added "$c_p99" "$d_p99") | $(cpu_us "$c_ticks") |"
echo "| ferrohub-proxy (defaults) ${FERROHUB_PROXY_ARGS:-} | $f_med | $f_p99 | $(added "$f_med" "$d_med") | $(added "$f_p99" "$d_p99") | $(cpu_us "$f_ticks") |"
echo "| ferrohub-proxy --websocket-busy-poll 100 ${FERROHUB_PROXY_ARGS:-} | $b_med | $b_p99 | $(added "$b_med" "$d_med") | $(added "$b_p99" "$d_p99") | $(cpu_us "$b_ticks") |"
echo
# The goal for the defaults: no more CPU per message than configurable-http-proxy, and less
# added latency.
python3 -c "
c, f = $c_med - $d_med, $f_med - $d_med
cc, fc = $c_ticks, $f_ticks
lat = 'met' if f < c else 'NOT met'
cpu = 'met' if fc <= cc else 'NOT met'
print(f'With its defaults ferrohub-proxy adds {f:.1f} µs per round trip where configurable-http-proxy adds {c:.1f} µs (less latency: {lat}), using {fc / max(cc, 1):.0%} of its CPU per message (no more CPU: {cpu}).')
"
} | tee "$work/table"
bench_record "websocket echo through the proxies" "$work/table"
