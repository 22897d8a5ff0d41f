#!/usr/bin/env bash
# Builds ferrohub's two demo applications locally, from Debian's packages (no image registry
# is asked for anything):
#   ferrohub-demo-desktop:1  a desktop: TigerVNC's Xvnc (VNC on 5900, org.ferrohub.vnc-port),
#                            the openbox window manager and a terminal; the proxy bridges
#                            the browser to it and the manager serves noVNC
#   ferrohub-demo-files:1    a web app on 8888: browse and download the files in /workspace
# Both carry simphony-remote's labels. The Debian root file system they share is made once
# with debootstrap and imported as ferrohub-demo-base:bookworm; later runs reuse it and only
# rebuild what changed. Prints nothing but progress; `docker images 'ferrohub-demo-*'` lists
# the results. Needs root (or sudo) for debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=tigervnc-standalone-server,xterm,openbox,x11-xserver-utils,python3,fonts-dejavu-core
BASE=ferrohub-demo-base:$SUITE
DESKTOP=ferrohub-demo-desktop:1
FILES=ferrohub-demo-files:1
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The base, keyed by what went into it.
BASE_KEY=$(printf '%s %s' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-16)
label_of() { docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
if [ "$(label_of "$BASE" org.ferrohub.demo.base)" != "$BASE_KEY" ]; then
    command -v debootstrap >/dev/null || {
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
    ROOT=$(mktemp -d)
    trap 'as_root rm -rf "$ROOT"' EXIT
    echo "== debootstrap $SUITE with $PACKAGES (a minute or two)"
    as_root debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >/dev/null
    # The apps run as an ordinary user, uid 1000, never as root.
    as_root chroot "$ROOT" useradd --create-home --uid 1000 --shell /bin/bash user
    as_root rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
    echo "== importing $BASE"
    as_root tar -C "$ROOT" -c . | docker import --change "LABEL org.ferrohub.demo.base=$BASE_KEY" - "$BASE" >/dev/null
fi
# Build on the base by ID: a name could make the engine ask a registry.
BASE_ID=$(docker image inspect -f '{{.Id}}' "$BASE")

CONTEXT=$(mktemp -d)
trap 'rm -rf "$CONTEXT"; [ -n "${ROOT:-}" ] && as_root rm -rf "$ROOT"' EXIT
cp scripts/demo/ferrohub-desktop scripts/demo/ferrohub-files "$CONTEXT/"
# 128x128 icons, drawn here so the images need nothing from outside.
python3 scripts/demo/icon.py desktop > "$CONTEXT/desktop.b64"
python3 scripts/demo/icon.py files > "$CONTEXT/files.b64"

build() { # build NAME DOCKERFILE: rebuilt only when the Dockerfile or its inputs change
    local name=$1 key
    key=$(cat "$CONTEXT/Dockerfile" "$CONTEXT"/ferrohub-* | sha256sum | cut -c1-16)
    if [ "$(label_of "$name" org.ferrohub.demo.key)" = "$key" ]; then
        echo "== $name is up to date"
        return
    fi
    echo "LABEL org.ferrohub.demo.key=$key" >> "$CONTEXT/Dockerfile"
    docker build -q -t "$name" "$CONTEXT" >/dev/null 2>"$CONTEXT/build.log" || { cat "$CONTEXT/build.log" >&2; exit 1; }
    echo "== built $name"
}

cat > "$CONTEXT/Dockerfile" <<DOCKERFILE
FROM $BASE_ID
COPY ferrohub-desktop /usr/local/bin/ferrohub-desktop
LABEL eu.simphony-project.docker.ui_name="Desktop" \
      eu.simphony-project.docker.description="A Linux desktop with a window manager and a terminal, in your browser" \
      eu.simphony-project.docker.type="vncapp" \
      eu.simphony-project.docker.icon_128="$(cat "$CONTEXT/desktop.b64")" \
      eu.simphony-project.docker.env.x11-width="" \
      eu.simphony-project.docker.env.x11-height="" \
      eu.simphony-project.docker.env.x11-depth="" \
      org.ferrohub.vnc-port="5900"
USER 1000
WORKDIR /home/user
ENV HOME=/home/user
CMD ["/usr/local/bin/ferrohub-desktop"]
DOCKERFILE
build "$DESKTOP"

cat > "$CONTEXT/Dockerfile" <<DOCKERFILE
FROM $BASE_ID
COPY ferrohub-files /usr/local/bin/ferrohub-files
LABEL eu.simphony-project.docker.ui_name="Files" \
      eu.simphony-project.docker.description="Browse and download the files in your workspace" \
      eu.simphony-project.docker.type="webapp" \
      eu.simphony-project.docker.icon_128="$(cat "$CONTEXT/files.b64")" \
      eu.simphony-project.docker.env.jpy-base-user-url="" \
      eu.simphony-project.docker.env.url-id="" \
      org.ferrohub.http-port="8888"
USER 1000
WORKDIR /home/user
ENV HOME=/home/user
CMD ["/usr/local/bin/ferrohub-files"]
DOCKERFILE
build "$FILES"
