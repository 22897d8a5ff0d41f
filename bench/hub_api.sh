#!/usr/bin/env bash
# Hub REST API benchmark: ferrohub beside JupyterHub (PyPI, from the test venv) in one run,
# loopback only, with wrk, each hub answering on its own port (the proxy is not in the path).
#
#   bash bench/hub_api.sh             # full run (about 3 minutes), prints a Markdown table
#   DURATION=5 bash bench/hub_api.sh  # shorter runs
#
# Measures: GET /hub/api/users?limit=200 with 200 users, GET /hub/api/, resident memory,
# time from start to a healthy hub, and with 10,000 users a paginated page of 200.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
TOKEN=bench-admin-token-0123456789abcdef

source bench/lib.sh
need_debs wrk node-configurable-http-proxy curl
bash scripts/install-test-deps.sh >/dev/null
echo "== building ferrohub (release)" >&2
cargo build --release -q -p ferrohub -p ferrohub-proxy
bench_scratch

# Seconds from $1 (date +%s%N) until $2 answers 200. curl in a tight loop: a Python poller
# spends ~0.15 s importing urllib, longer than ferrohub takes to start.
time_to_healthy() {
    until curl -sf -o /dev/null --max-time 1 "$2"; do sleep 0.002; done
    local end
    end=$(date +%s%N)
    awk -v s="$1" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }'
}

# Create users u0..u(N-1) through the API, 500 per request.
make_users() {
    python3 - "$1" "$2" "$TOKEN" <<'PY'
import json, sys, urllib.request
api, n, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for start in range(0, n, 500):
    names = [f"u{i}" for i in range(start, min(n, start + 500))]
    req = urllib.request.Request(f"{api}/users", data=json.dumps({"usernames": names}).encode(),
                                 method="POST", headers={"Authorization": f"token {token}"})
    urllib.request.urlopen(req).read()
PY
}

run_wrk() {
    wrk -t2 -c"${3:-16}" -d"${DURATION}s" --latency -H "Authorization: token $TOKEN" "$1$2" > "$work/wrk.out"
    if grep -q "Non-2xx" "$work/wrk.out"; then
        echo "error responses from $1$2:" >&2; cat "$work/wrk.out" >&2; exit 1
    fi
    echo "$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.out") $(awk '$1 == "99%" {print $2}' "$work/wrk.out")"
}
rss_mib() { echo $(( $(rss_kib "$1") / 1024 )); }

# --- ferrohub
FH_PUBLIC=$(free_port); FH_HUB=$(free_port); FH_API=$(free_port)
mkdir -p "$work/ferrohub"
cat > "$work/ferrohub/c.toml" <<CONF
[JupyterHub]
bind_url = "http://127.0.0.1:$FH_PUBLIC"
hub_bind_url = "http://127.0.0.1:$FH_HUB"
authenticator_class = "dummy"
api_page_max_limit = 200
[[JupyterHub.services]]
name = "bench"
api_token = "$TOKEN"
admin = true
[ConfigurableHTTPProxy]
api_url = "http://127.0.0.1:$FH_API"
CONF
start=$(date +%s%N)
(cd "$work/ferrohub" && exec "$OLDPWD/target/release/ferrohub" -f c.toml --log-level warn) &
FH_PID=$!
pids+=($FH_PID)
fh_start=$(time_to_healthy "$start" "http://127.0.0.1:$FH_HUB/hub/health")
FH="http://127.0.0.1:$FH_HUB"
make_users "$FH/hub/api" 200

# --- JupyterHub
JH_PUBLIC=$(free_port); JH_HUB=$(free_port); JH_API=$(free_port)
mkdir -p "$work/jupyterhub"
cat > "$work/jupyterhub/jupyterhub_config.py" <<CONF
c.JupyterHub.bind_url = "http://127.0.0.1:$JH_PUBLIC"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:$JH_HUB"
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.log_level = "WARN"
c.JupyterHub.services = [{"name": "bench", "api_token": "$TOKEN", "admin": True}]
c.JupyterHub.load_roles = [{"name": "admin", "services": ["bench"]}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:$JH_API"
c.ConfigurableHTTPProxy.command = ["configurable-http-proxy"]
CONF
start=$(date +%s%N)
(cd "$work/jupyterhub" && exec "$OLDPWD/.venv/bin/jupyterhub" -f jupyterhub_config.py) > "$work/jupyterhub.log" 2>&1 &
JH_PID=$!
pids+=($JH_PID)
jh_start=$(time_to_healthy "$start" "http://127.0.0.1:$JH_HUB/hub/health")
JH="http://127.0.0.1:$JH_HUB"
make_users "$JH/hub/api" 200

echo "| measurement | JupyterHub 6.1.1 | ferrohub | ratio |"
echo "|---|---|---|---|"
ratio() { python3 -c "print(f'{float(\"$2\") / float(\"$1\"):.0f}x')"; }
res=$(run_wrk "$JH" "/hub/api/users?limit=200") || exit 1; read -r jr jp <<< "$res"
res=$(run_wrk "$FH" "/hub/api/users?limit=200") || exit 1; read -r fr fp <<< "$res"
echo "| GET /hub/api/users?limit=200, 200 users: req/s (p99) | $jr ($jp) | $fr ($fp) | $(ratio "$jr" "$fr") |"
res=$(run_wrk "$JH" "/hub/api/") || exit 1; read -r jr jp <<< "$res"
res=$(run_wrk "$FH" "/hub/api/") || exit 1; read -r fr fp <<< "$res"
echo "| GET /hub/api/: req/s (p99) | $jr ($jp) | $fr ($fp) | $(ratio "$jr" "$fr") |"
echo "| hub resident memory after the runs | $(rss_mib "$JH_PID") MiB | $(rss_mib "$FH_PID") MiB | |"
echo "| start to healthy | ${jh_start} s | ${fh_start} s | |"
make_users "$FH/hub/api" 10000
res=$(run_wrk "$FH" "/hub/api/users?offset=5000&limit=200" 4) || exit 1; read -r fr fp <<< "$res"
echo "| ferrohub, 10,000 users, GET /hub/api/users?offset=5000&limit=200: req/s (p99) | | $fr ($fp) | |"
