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

# JupyterHub's OpenAPI document for /hub/api, from the sdist of the same pinned release (the
# wheel does not ship it): the API coverage and response-validation tests read it from here.
SPEC="$VENV/share/jupyterhub-rest-api.yml"
if [ ! -s "$SPEC" ]; then
    echo "== extracting JupyterHub's OpenAPI document into $SPEC"
    sdist=$(mktemp -d)
    trap 'rm -rf "$sdist"' EXIT
    "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-binary :all: \
        --no-deps -d "$sdist" "${PY_PACKAGES[0]}"
    mkdir -p "$(dirname "$SPEC")"
    "$VENV/bin/python" - "$sdist"/jupyterhub-*.tar.gz "$SPEC" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as sdist:
    member = next(m for m in sdist.getmembers() if m.name.endswith("docs/source/_static/rest-api.yml"))
    data = sdist.extractfile(member).read()
with open(sys.argv[2] + ".part", "wb") as out:
    out.write(data)
PY
    mv "$SPEC.part" "$SPEC"
fi
