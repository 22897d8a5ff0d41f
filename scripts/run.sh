#!/usr/bin/env bash
# Builds ferrohub and starts the hub on its embedded defaults in ./ferrohub-data, the way a
# new admin would try it: the hub on http://127.0.0.1:8000, its proxy started beside it.
# Extra arguments go to `ferrohub` (e.g. `scripts/run.sh --debug`).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building ferrohub (release)"
cargo build --release --workspace --bins
mkdir -p ferrohub-data
cd ferrohub-data
echo "== starting ferrohub in $(pwd); stop it with Ctrl-C"
exec ../target/release/ferrohub "$@"
