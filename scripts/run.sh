#!/usr/bin/env bash
# Builds ferrohub and starts the hub on its embedded defaults in ./ferrohub-data, the way a
# new admin would try it: the hub on http://127.0.0.1:8000, its proxy started beside it, and
# a real single-user server to launch (jupyter_server from PyPI in .venv, found on PATH by the
# default `jupyterhub-singleuser` command). Extra arguments go to `ferrohub`
# (e.g. `scripts/run.sh --debug`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/python-env.sh
echo "== building ferrohub (release)"
cargo build --release --workspace --bins
VENV_BIN="$(pwd)/.venv/bin"
mkdir -p ferrohub-data
cd ferrohub-data
extra=(--LocalProcessSpawner.home_dir_template='home/{username}')
# jupyter_server refuses to run as root unless told to; a real deployment runs the hub as a
# service user (or spawns containers), this is for trying it out.
if [ "$(id -u)" = 0 ]; then
    extra+=(--Spawner.args='["--allow-root"]')
fi
echo "== starting ferrohub in $(pwd); stop it with Ctrl-C"
PATH="$VENV_BIN:$PATH" exec ../target/release/ferrohub "${extra[@]}" "$@"
