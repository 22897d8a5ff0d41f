# Helpers shared by the proxy benchmark scripts (sourced, not run). Loopback only.

# Debian's configurable-http-proxy finds its modules here when node comes from elsewhere.
export NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Install the Debian packages named, if missing.
need_debs() {
    local need=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
    for _ in $(seq 1 100); do
        (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing answers on port $1" >&2
    exit 1
}

# A scratch directory in `work` and a list `pids` of processes, both cleaned up on exit.
bench_scratch() {
    work=$(mktemp -d)
    pids=()
    trap bench_cleanup EXIT
}
bench_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# CPU time (user + system, in clock ticks) of process $1 and its threads so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_sec() { getconf CLK_TCK; }

# Start the websocket echo server of `ws_bench`; sets ECHO (its port) and ECHO_PID.
start_ws_echo() {
    local out=$1
    target/release/examples/ws_bench echo > "$out" &
    ECHO_PID=$!
    for _ in $(seq 1 100); do
        ECHO=$(head -n1 "$out" 2>/dev/null || true)
        [ -n "$ECHO" ] && return 0
        sleep 0.1
    done
    echo "the echo server did not start" >&2
    exit 1
}

# start_proxy chp|ferrohub TARGET: a proxy on a free port with TARGET as its default target;
# sets PROXY_PORT, PROXY_API and PROXY_PID. FERROHUB_PROXY_ARGS adds options to ferrohub-proxy's command
# line (e.g. "--websocket-busy-poll 0").
start_proxy() {
    local kind=$1 target=$2 api
    PROXY_PORT=$(free_port); api=$(free_port); PROXY_API=$api
    local args=(--ip 127.0.0.1 --port "$PROXY_PORT" --api-ip 127.0.0.1 --api-port "$api"
        --default-target "$target" --log-level error)
    case $kind in
        chp) CONFIGPROXY_AUTH_TOKEN=bench-token configurable-http-proxy "${args[@]}" & ;;
        ferrohub) CONFIGPROXY_AUTH_TOKEN=bench-token target/release/ferrohub-proxy "${args[@]}" ${FERROHUB_PROXY_ARGS:-} & ;;
    esac
    PROXY_PID=$!
    wait_port "$PROXY_PORT"
}

# bench_record TITLE FILE: append FILE (a Markdown table and verdict lines) to
# bench/RESULTS.md under a heading with the date, the machine and the command that made it,
# so every figure quoted in the README can be traced to a run.
bench_record() {
    local title=$1 file=$2 results
    results="$(git rev-parse --show-toplevel)/bench/RESULTS.md"
    [ -s "$results" ] || printf '# Benchmark results\n\nWritten by the scripts in bench/, newest last; each entry names the command that made it.\n' > "$results"
    {
        printf '\n## %s: %s\n\n' "$(date -u +'%Y-%m-%d %H:%M UTC')" "$title"
        printf -- '- command: `%s`\n' "$BENCH_COMMAND"
        printf -- '- machine: %s cores, %s GiB, %s; commit %s\n\n' "$(nproc)" \
            "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)" "$(uname -r)" \
            "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/RESULTS.md' || echo '+changes')"
        cat "$file"
    } >> "$results"
    echo "(recorded in bench/RESULTS.md)" >&2
}
# The command line a script was started with, for bench_record (set before options are read).
BENCH_COMMAND="$(env | { grep -E '^(MESSAGES|ROUNDS|DURATION|CONNS|SOAK_SECONDS|RECONNECT|SOAK_CHP|FERROHUB_PROXY_ARGS|USERS|N)=' || true; } | tr '\n' ' ')bash $0${*:+ $*}"
