#!/usr/bin/env bash
# Builds ferrohub and starts the hub on its embedded defaults in ./ferrohub-data, the way a
# new admin would try it: the hub on http://127.0.0.1:8000, its proxy started beside it, and
# each user's server a ferrohub-manager (`spawner_class = "manager"`) with two demo apps
# built locally from Debian's packages (scripts/build-demo-images.sh) and granted to the
# admin: a desktop (VNC, shown in the browser by noVNC) and a web app (Files). Debian's
# `novnc` package is installed for the desktop's page. Extra arguments go to `ferrohub`
# (e.g. `scripts/run.sh --debug`); `--JupyterHub.spawner_class=local` starts Jupyter servers
# instead (jupyter_server from PyPI in .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
bash scripts/python-env.sh
if ! dpkg-query -W -f='${Status}' novnc 2>/dev/null | grep -q "ok installed"; then
    echo "== installing Debian's novnc (the desktop's page in the browser)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq novnc >/dev/null
fi
echo "== building the demo apps (the first time takes a few minutes)"
bash scripts/build-demo-images.sh
echo "== building ferrohub (release)"
cargo build --release --workspace --bins
VENV_BIN="$(pwd)/.venv/bin"
mkdir -p ferrohub-data
cd ferrohub-data
FERROHUB=../target/release/ferrohub
# The demo apps, registered and granted to the admin (again harmlessly on later runs).
$FERROHUB upgrade-db >/dev/null
for app in ferrohub-demo-desktop:1 ferrohub-demo-files:1; do
    if ! out=$($FERROHUB --log-level error app create "$app" 2>&1); then
        case $out in *"already exists"*) ;; *) echo "$out" >&2; exit 1 ;; esac
    fi
done
extra=(--JupyterHub.spawner_class=manager --LocalProcessSpawner.home_dir_template='home/{username}')
# jupyter_server refuses to run as root unless told to; a real deployment runs the hub as a
# service user (or spawns containers), this is for trying it out.
if [ "$(id -u)" = 0 ]; then
    extra+=(--Spawner.args='["--allow-root"]')
fi
# The hub creates the admin at its first start; the demo apps are granted to it then.
grant_to_admin() {
    local out
    for _ in $(seq 1 150); do
        if out=$($FERROHUB --log-level error app grant "$1" admin 2>&1); then
            echo "== granted $1 to admin"
            return
        fi
        case $out in
            *"already exists"*) return ;;
            *"no such user"*) sleep 0.2 ;;
            *) echo "$out" >&2; return ;;
        esac
    done
}
echo "== starting ferrohub in $(pwd); stop it with Ctrl-C"
PATH="$VENV_BIN:$PATH" $FERROHUB "${extra[@]}" "$@" &
hub=$!
# A background job of a script ignores Ctrl-C: pass it on, then wait for the hub to stop.
trap 'kill -INT "$hub" 2>/dev/null || true' INT TERM
grant_to_admin ferrohub-demo-desktop:1
grant_to_admin ferrohub-demo-files:1
wait "$hub" || wait "$hub" 2>/dev/null || true
