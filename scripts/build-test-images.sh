#!/usr/bin/env bash
# Builds the images the Docker end-to-end tests run, from this workspace only (no registry is
# needed): `ferrohub-test-singleuser:latest` is `FROM scratch` with the test server binary
# and the shared libraries `ldd` lists for it, the dynamic loader included;
# `ferrohub-test-webapp:latest` is the same server as a labelled web app for the manager
# (simphony-remote's labels, listening on 8888 and answering under any path).
# Idempotent: images already built from the same binary are kept as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=ferrohub-test-singleuser:latest
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/debug/ferrohub-test-singleuser"

if [ ! -x "$BIN" ]; then
  cargo build -p ferrohub-e2e --bin ferrohub-test-singleuser
fi

HASH=$(sha256sum "$BIN" | cut -c1-16)
WEBAPP=ferrohub-test-webapp:latest
built_from() { docker image inspect -f '{{ index .Config.Labels "ferrohub.test.binary" }}' "$1" 2>/dev/null || true; }
if [ "$(built_from "$IMAGE")" = "$HASH" ] && [ "$(built_from "$WEBAPP")" = "$HASH" ]; then
  echo "== $IMAGE and $WEBAPP are up to date ($HASH)"
  exit 0
fi

echo "== building $IMAGE ($HASH)"
CONTEXT=$(mktemp -d)
trap 'rm -rf "$CONTEXT"' EXIT
mkdir -p "$CONTEXT/rootfs"
cp "$BIN" "$CONTEXT/rootfs/ferrohub-test-singleuser"
# Every library ldd resolves (`name => /path`) and the loader (a bare absolute path), kept at
# the paths the binary looks for them.
for lib in $(ldd "$BIN" | grep -oE '(=> )?/[^ ]+' | sed 's/^=> //'); do
  mkdir -p "$CONTEXT/rootfs$(dirname "$lib")"
  cp -L "$lib" "$CONTEXT/rootfs$lib"
done
cat > "$CONTEXT/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
LABEL ferrohub.test.binary="$HASH"
# CMD rather than ENTRYPOINT: the Docker spawner runs the image's command plus Spawner.args.
CMD ["/ferrohub-test-singleuser"]
DOCKERFILE
docker build -q -t "$IMAGE" "$CONTEXT" >/dev/null 2>"$CONTEXT/build.log" || { cat "$CONTEXT/build.log" >&2; exit 1; }
echo "== built $IMAGE"

# FROM the image just built, by ID: a name could make the engine ask a registry.
BASE_ID=$(docker image inspect -f '{{.Id}}' "$IMAGE")
cat > "$CONTEXT/Dockerfile" <<DOCKERFILE
FROM $BASE_ID
LABEL ferrohub.test.binary="$HASH"
LABEL eu.simphony-project.docker.ui_name="Test web app" \
      eu.simphony-project.docker.description="Answers with its environment at .../env" \
      eu.simphony-project.docker.type="webapp" \
      eu.simphony-project.docker.env.jpy-user="" \
      eu.simphony-project.docker.env.jpy-base-user-url="" \
      eu.simphony-project.docker.env.url-id=""
ENV JUPYTERHUB_SERVICE_URL=http://0.0.0.0:8888/
DOCKERFILE
docker build -q -t "$WEBAPP" "$CONTEXT" >/dev/null 2>"$CONTEXT/build.log" || { cat "$CONTEXT/build.log" >&2; exit 1; }
echo "== built $WEBAPP"
