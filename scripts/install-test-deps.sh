#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain. Safe to run again: each step
# checks first. Everything comes from Debian's packages or PyPI (no image registry, no
# downloads of prebuilt binaries).
set -euo pipefail

need_rust_component() {
    # rustfmt and clippy ship with the toolchain on these machines; say so clearly if not.
    if ! cargo "$1" --version >/dev/null 2>&1; then
        echo "error: \`cargo $1\` is missing; install it with \`rustup component add $2\`" >&2
        exit 1
    fi
}
need_rust_component fmt rustfmt
need_rust_component clippy clippy

# JupyterHub's own Python clients (the idle culler, HubAuth), for the compatibility tests.
# Pinned so a new release cannot change the tests' outcome unnoticed.
cd "$(dirname "$0")/.."
VENV=.venv
PY_PACKAGES=(jupyterhub==6.1.1 jupyterhub-idle-culler==2.0.0)
if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating the test venv in $VENV"
    python3 -m venv "$VENV"
fi
# pip answers at once when the pinned versions are already there.
echo "== ensuring ${PY_PACKAGES[*]} in $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
