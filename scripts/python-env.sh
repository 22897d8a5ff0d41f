#!/usr/bin/env bash
# Makes the Python venv `.venv` with JupyterHub's own parts from PyPI: the idle culler and
# HubAuth for the compatibility tests, and a real single-user server (jupyter_server with a
# Python kernel) for the hub to spawn, in the tests and in `scripts/run.sh`. Pinned so a new
# release cannot change the outcome unnoticed. Safe to run again: pip answers at once when
# the pinned versions are there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
PY_PACKAGES=(jupyterhub==6.1.1 jupyterhub-idle-culler==2.0.0 jupyter_server==2.21.1 ipykernel==7.4.0)
if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating the Python venv in $VENV"
    python3 -m venv "$VENV"
fi
echo "== ensuring ${PY_PACKAGES[*]} in $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
