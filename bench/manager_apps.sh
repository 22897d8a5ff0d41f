#!/usr/bin/env bash
# App starts through the manager, beside the same containers started with `docker run`, in
# one run, loopback only:
#   - from POST api/v1/containers/ until the app answers through ferrohub-proxy, for one
#     start and for N (default 10) at once (the slowest);
#   - the same image with `docker run -d -p 127.0.0.1::8888` until it answers, 1 and N at once;
#   - the manager's resident memory afterwards.
# simphony-remote ran every Docker call of a manager one after another; the goal here is that
# N concurrent starts cost, relative to one, no more than 30% beyond what the engine alone
# costs (the ratio of N to 1 through the manager within 1.3x the engine's own ratio).
#
#   bash bench/manager_apps.sh            # N=10; table in bench/RESULTS.md
#   N=5 bash bench/manager_apps.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${N:-10}
TOKEN=bench-manager-admin-token-7f6e5d4c
IMAGE=ferrohub-test-webapp:latest

echo "== building ferrohub (release) and the test images" >&2
cargo build --release -q -p ferrohub -p ferrohub-proxy -p ferrohub-manager
cargo build -q -p ferrohub-e2e --bins
bash scripts/build-test-images.sh >/dev/null
bench_scratch
REALM=bench$$
trap 'bench_cleanup; docker ps -aq --filter label=eu.simphony-project.docker.runinfo.realm=$REALM | xargs -r docker rm -f >/dev/null' EXIT

PUBLIC_PORT=$(free_port); HUB_PORT=$(free_port); API_PORT=$(free_port)
cat > "$work/jupyterhub_config.toml" <<TOML
[JupyterHub]
authenticator_class = "dummy"
spawner_class = "manager"
bind_url = "http://127.0.0.1:$PUBLIC_PORT"
hub_bind_url = "http://127.0.0.1:$HUB_PORT"

[[JupyterHub.services]]
name = "bench"
api_token = "$TOKEN"
admin = true

[ConfigurableHTTPProxy]
api_url = "http://127.0.0.1:$API_PORT"

[Manager]
realm = "$REALM"
TOML
FERROHUB="$(pwd)/target/release/ferrohub"
(cd "$work" && exec "$FERROHUB" -f jupyterhub_config.toml --log-level warn > hub.log 2>&1) &
pids+=($!)
PUBLIC="http://127.0.0.1:$PUBLIC_PORT"
for _ in $(seq 1 200); do curl -sf -o /dev/null "$PUBLIC/hub/health" && break; sleep 0.1; done
api() { curl -sf -X "$1" -H "Authorization: token $TOKEN" ${3:+-d "$3"} "$PUBLIC/hub/api$2"; }
api POST /users '{"usernames": ["bench"]}' >/dev/null
app() { (cd "$work" && "$FERROHUB" -f jupyterhub_config.toml --log-level error app "$@"); }
app create "$IMAGE" >/dev/null
# N grants of the same image (each its own mapping_id): one app per grant runs at a time.
ids=()
for i in $(seq 1 "$N"); do
    ids+=("$(app --json grant "$IMAGE" bench --app-license "seat $i" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mapping_id"])')")
done
api POST /users/bench/server >/dev/null
for _ in $(seq 1 300); do
    ready=$(api GET /users/bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["servers"].get("",{}).get("ready"))')
    [ "$ready" = True ] && break
    sleep 0.1
done
USER_TOKEN=$(api POST /users/bench/tokens '{"note": "bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
MANAGER_PID=$(api GET /users/bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["servers"][""]["state"]["pid"])')

echo "== starting $N apps through the manager and with docker run" >&2
result=$(python3 bench/manager_driver.py "$PUBLIC" bench "$USER_TOKEN" "$IMAGE" "$(IFS=,; echo "${ids[*]}")")
rss=$(rss_kib "$MANAGER_PID")

python3 - "$result" "$rss" "$N" > "$work/table" <<'PY'
import json, sys
r, rss, n = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
m, d = r["manager"], r["docker"]
print(f"| app starts, web app image, until it answers | one start (s) | {n} at once, slowest (s) | {n} vs 1 |")
print("|---|---|---|---|")
print(f"| `docker run` (the engine alone) | {d['one']} | {d['many']} | {d['many'] / d['one']:.2f}x |")
print(f"| ferrohub-manager, through ferrohub-proxy | {m['one']} | {m['many']} | {m['many'] / m['one']:.2f}x |")
print()
ratio = (m['many'] / m['one']) / (d['many'] / d['one'])
verdict = "met" if ratio <= 1.3 else "NOT met"
print(f"The manager's {n}-to-1 ratio is {ratio:.2f} times the engine's (target: at most 1.30): {verdict}. "
      f"The manager's resident memory afterwards: {rss / 1024:.1f} MiB.")
PY
cat "$work/table"
bench_record "app starts through the manager" "$work/table"
