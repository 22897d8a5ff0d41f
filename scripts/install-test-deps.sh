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

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: PostgreSQL for the store's second backend; for the VNC end-to-end test a
# real VNC server (TigerVNC's Xvnc) with something to draw (xsetroot), the noVNC client, and
# headless Chromium driven over WebDriver; openssl for the test CA of the https OAuth test.
APT_PACKAGES=(postgresql tigervnc-standalone-server x11-xserver-utils novnc chromium chromium-driver openssl)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A running PostgreSQL with a `ferrohub` superuser for the tests (scripts/test.sh points
# FERROHUB_TEST_POSTGRES at it). Debian's cluster runs as the postgres user.
if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
    echo "== starting PostgreSQL"
    if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
        as_root pg_createcluster "$(ls /usr/lib/postgresql | sort -n | tail -1)" main
    fi
    as_root service postgresql start >/dev/null
fi
as_root su postgres -c "psql -qtc \"SELECT 1 FROM pg_roles WHERE rolname = 'ferrohub'\" | grep -q 1 \
    || psql -qc \"CREATE ROLE ferrohub LOGIN SUPERUSER PASSWORD 'ferrohub'\""

# JupyterHub's own Python parts for the compatibility tests (see python-env.sh).
bash "$(dirname "$0")/python-env.sh"
