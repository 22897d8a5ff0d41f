#!/usr/bin/env bash
# Spawn benchmark, loopback only, each measurement against ferrohub (release build) and, where
# the issue asks for a comparison, JupyterHub 6.1 (PyPI, from the test venv) in the same run.
#
#   bash bench/spawn.sh          # about 3 minutes; prints a Markdown table
#   USERS=200 bash bench/spawn.sh
#
# 1. The hub's own cost: USERS (default 1000) users start servers at once with the
#    in-process `instant` spawner (ready at once); per-spawn latency p50/p99.
# 2. A real `jupyterhub-singleuser` (jupyter_server from PyPI) started by ferrohub's local
#    spawner and by JupyterHub's SimpleLocalProcessSpawner: one spawn, then 10 at once,
#    from the start request to ready.
# 3. Docker containers (the locally built ferrohub-test-singleuser image): from the start
#    request to answering through the proxy, one and 10 at once.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-1000}
TOKEN=bench-admin-token-0123456789abcdef

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
dpkg-query -W -f='${Status}' node-configurable-http-proxy 2>/dev/null | grep -q "ok installed" || {
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq node-configurable-http-proxy >/dev/null
}
export NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs
bash scripts/install-test-deps.sh >/dev/null
echo "== building ferrohub (release, with the instant test spawner)" >&2
cargo build --release -q -p ferrohub --features ferrohub/test-util
cargo build --release -q -p ferrohub-proxy
cargo build -q -p ferrohub-e2e --bins
bash scripts/build-test-images.sh >/dev/null
ulimit -n 65536 2>/dev/null || true

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    docker ps -aq --filter label=ferrohub.user | xargs -r docker rm -f >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_healthy() {
    for _ in $(seq 1 600); do
        curl -sf -o /dev/null "$1/hub/health" && return 0
        sleep 0.1
    done
    echo "the hub at $1 did not come up; its log:" >&2; cat "$2" >&2; exit 1
}
make_users() { # api count prefix
    python3 - "$1" "$2" "$3" "$TOKEN" <<'PY'
import json, sys, urllib.request
api, n, prefix, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
for start in range(0, n, 500):
    names = [f"{prefix}{i}" for i in range(start, min(n, start + 500))]
    req = urllib.request.Request(f"{api}/users", data=json.dumps({"usernames": names}).encode(),
                                 method="POST", headers={"Authorization": f"token {token}"})
    urllib.request.urlopen(req).read()
PY
}
names() { python3 -c "print(','.join(f'$1{i}' for i in range($2)))"; }
drive() { python3 bench/spawn_driver.py "$@"; }
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); v=d['$2']; print('%.3f' % v if isinstance(v, float) else v)" "$1"; }
check_ok() { # result expected label
    if [ "$(field "$1" ok)" != "$2" ]; then echo "$3 failed: $1" >&2; exit 1; fi
}

# Start ferrohub as NAME with the spawner class and extra TOML tables; sets FH (public URL).
start_ferrohub() {
    local dir="$work/ferrohub-$1"; mkdir -p "$dir"
    local public hub api; public=$(free_port); hub=$(free_port); api=$(free_port)
    cat > "$dir/c.toml" <<CONF
[JupyterHub]
bind_url = "http://127.0.0.1:$public"
hub_bind_url = "http://127.0.0.1:$hub"
authenticator_class = "dummy"
concurrent_spawn_limit = 0
[[JupyterHub.services]]
name = "bench"
api_token = "$TOKEN"
admin = true
[ConfigurableHTTPProxy]
api_url = "http://127.0.0.1:$api"
command = ["$PWD/target/release/ferrohub-proxy"]
$3
CONF
    (cd "$dir" && PATH="$OLDPWD/.venv/bin:$PATH" exec "$OLDPWD/target/release/ferrohub" -f c.toml \
        --JupyterHub.spawner_class="$2" --log-level warn) > "$dir/log" 2>&1 &
    pids+=($!)
    FH="http://127.0.0.1:$public"; FH_LOG="$dir/log"
    wait_healthy "$FH" "$FH_LOG"
}

SINGLEUSER="$PWD/.venv/bin/jupyterhub-singleuser"
ROOT_ARGS='[]'; PY_ROOT_ARGS='[]'
if [ "$(id -u)" = 0 ]; then ROOT_ARGS='["--allow-root"]'; PY_ROOT_ARGS='["--allow-root"]'; fi

echo "| measurement | JupyterHub 6.1 | ferrohub |"
echo "|---|---|---|"

# 1. The hub's own cost per spawn.
start_ferrohub instant instant ""
make_users "$FH/hub/api" "$USERS" u
r=$(drive "$FH/hub/api" "$TOKEN" "$(names u "$USERS")")
check_ok "$r" "$USERS" "instant spawns"
echo "| $USERS users start at once (instant spawner): succeeded | | $(field "$r" ok)/$USERS in $(field "$r" wall) s |"
echo "| hub overhead per spawn, p50 / p99 | | $(field "$r" p50) s / $(field "$r" p99) s |"

# 2. A real jupyterhub-singleuser, ferrohub and JupyterHub side by side.
start_ferrohub local local "[Spawner]
cmd = [\"$SINGLEUSER\"]
args = $ROOT_ARGS
[LocalProcessSpawner]
home_dir_template = \"home/{username}\""
make_users "$FH/hub/api" 11 s
fh1=$(drive "$FH/hub/api" "$TOKEN" s0); check_ok "$fh1" 1 "ferrohub one spawn"
fh10=$(drive "$FH/hub/api" "$TOKEN" "$(python3 -c "print(','.join(f's{i}' for i in range(1, 11)))")"); check_ok "$fh10" 10 "ferrohub 10 spawns"

JH_PUBLIC=$(free_port); JH_HUB=$(free_port); JH_API=$(free_port)
mkdir -p "$work/jupyterhub"
cat > "$work/jupyterhub/jupyterhub_config.py" <<CONF
c.JupyterHub.bind_url = "http://127.0.0.1:$JH_PUBLIC"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:$JH_HUB"
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.JupyterHub.log_level = "WARN"
c.JupyterHub.services = [{"name": "bench", "api_token": "$TOKEN", "admin": True}]
c.JupyterHub.load_roles = [{"name": "admin", "services": ["bench"]}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:$JH_API"
c.ConfigurableHTTPProxy.command = ["configurable-http-proxy"]
c.Spawner.cmd = ["$SINGLEUSER"]
c.Spawner.args = $PY_ROOT_ARGS
c.Spawner.environment = {"PATH": "$PWD/.venv/bin:/usr/local/bin:/usr/bin:/bin"}
c.SimpleLocalProcessSpawner.home_dir_template = "$work/jupyterhub/home/{username}"
CONF
(cd "$work/jupyterhub" && exec "$OLDPWD/.venv/bin/jupyterhub" -f jupyterhub_config.py) > "$work/jupyterhub.log" 2>&1 &
pids+=($!)
JH="http://127.0.0.1:$JH_PUBLIC"
wait_healthy "$JH" "$work/jupyterhub.log"
make_users "$JH/hub/api" 11 s
jh1=$(drive "$JH/hub/api" "$TOKEN" s0); check_ok "$jh1" 1 "JupyterHub one spawn"
jh10=$(drive "$JH/hub/api" "$TOKEN" "$(python3 -c "print(','.join(f's{i}' for i in range(1, 11)))")"); check_ok "$jh10" 10 "JupyterHub 10 spawns"
echo "| jupyterhub-singleuser, one spawn: request to ready | $(field "$jh1" max) s | $(field "$fh1" max) s |"
echo "| jupyterhub-singleuser, 10 at once: all ready (slowest) | $(field "$jh10" max) s | $(field "$fh10" max) s |"

# 3. Docker containers.
start_ferrohub docker docker "[DockerSpawner]
image = \"ferrohub-test-singleuser:latest\""
make_users "$FH/hub/api" 11 d
d1=$(drive "$FH/hub/api" "$TOKEN" d0 --public "$FH"); check_ok "$d1" 1 "one container"
d10=$(drive "$FH/hub/api" "$TOKEN" "$(python3 -c "print(','.join(f'd{i}' for i in range(1, 11)))")" --public "$FH"); check_ok "$d10" 10 "10 containers"
echo "| Docker container, one: request to answering through the proxy | | $(field "$d1" max) s |"
echo "| Docker containers, 10 at once: all answering (slowest) | | $(field "$d10" max) s |"
