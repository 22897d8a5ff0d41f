#!/usr/bin/env bash
# Builds the images the Docker end-to-end tests run, from this workspace only (no registry is
# needed): `ferrohub-test-singleuser:latest` is `FROM scratch` with the test server binary
# and the shared libraries `ldd` lists for it, the dynamic loader included.
# Idempotent: an image already built from the same binary is kept as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=ferrohub-test-singleuser:latest
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/debug/ferrohub-test-singleuser"

if [ ! -x "$BIN" ]; then
  cargo build -p ferrohub-e2e --bin ferrohub-test-singleuser
fi

HASH=$(sha256sum "$BIN" | cut -c1-16)
CURRENT=$(docker image inspect -f '{{ index .Config.Labels "ferrohub.test.binary" }}' "$IMAGE" 2>/dev/null || true)
if [ "$CURRENT" = "$HASH" ]; then
  echo "== $IMAGE is up to date ($HASH)"
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
docker build -q -t "$IMAGE" "$CONTEXT" >/dev/null
echo "== built $IMAGE"
