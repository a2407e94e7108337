#!/usr/bin/env bash
# `make sam-setup`: what `sam local` needs on a fresh Debian machine, idempotent.
#   1. Debian's docker.io and qemu-user-static (arm64 binaries run under emulation).
#   2. binfmt_misc with qemu-aarch64 registered, so arm64 containers run on this x86_64 host.
#   3. A dockerd of the project's own (pidfile, socket and data under .local/sam/), unless one
#      already answers there. It writes no iptables rules and leaves IP forwarding off: the
#      containers need only reach the host at the bridge's gateway address (the local stack
#      listens there for them) and be reached on their published ports (docker-proxy).
#   4. The stand-in Lambda base image for arm64: no image registry is reachable here, so a
#      rootfs of Debian's arm64 busybox-static, libc6 and libgcc-s1 (the bootstraps link glibc)
#      is built locally and tagged as the image SAM asks for (public.ecr.aws/lambda/
#      provided:al2023-arm64). SAM builds its runtime-emulator layer on top itself.
# `make build` (the bootstraps themselves) is the Makefile's part; tools/local-stack/sam/down.sh undoes 3.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
STATE="$ROOT/.local/sam"
SOCK="$STATE/docker.sock"
export DOCKER_HOST="unix://$SOCK"
IMAGE="public.ecr.aws/lambda/provided:al2023-arm64"
mkdir -p "$STATE"

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "error: make sam-setup needs root (or sudo) to install packages and run dockerd" >&2; exit 1; }
  SUDO="sudo"
fi
step() { printf '%s sam-setup: %s\n' "$(date +%H:%M:%S)" "$*"; }

# 1. Packages.
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. arm64 emulation.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  step "mounting binfmt_misc"
  $SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  step "registering qemu-aarch64 with binfmt_misc"
  # The F flag opens the interpreter now, so it works inside containers too.
  $SUDO sh -c "grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register"
fi

# 3. The project's dockerd.
if docker info >/dev/null 2>&1; then
  step "dockerd already answers on $SOCK"
else
  step "starting dockerd (log: $STATE/dockerd.log)"
  rm -f "$SOCK"
  # The socket belongs to the caller's group (the one who ran sudo), so the other sam targets
  # need no root.
  GROUP="${SUDO_GID:-$(id -g)}"
  $SUDO sh -c "nohup dockerd --pidfile '$STATE/docker.pid' --data-root '$STATE/docker-data' \
    --exec-root '$STATE/docker-exec' -H 'unix://$SOCK' --group '$GROUP' --iptables=false \
    --ip6tables=false --ip-forward=false --ip-masq=false > '$STATE/dockerd.log' 2>&1 &"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { echo "error: dockerd did not start; see $STATE/dockerd.log" >&2; tail -20 "$STATE/dockerd.log" >&2; exit 1; }
fi

# 4. The stand-in base image.
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  step "$IMAGE already built"
else
  step "building the stand-in $IMAGE from Debian's arm64 packages"
  APT="$STATE/apt-arm64"
  mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
  opts=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o "Dir::State::Lists=$APT/lists"
        -o "Dir::State::status=/dev/null" -o "Dir::Cache=$APT/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  (cd "$APT/debs" && apt-get "${opts[@]}" download busybox-static:arm64 libc6:arm64 libgcc-s1:arm64 >/dev/null)
  CONTEXT="$STATE/image-arm64"
  ROOTFS="$CONTEXT/rootfs"
  rm -rf "$CONTEXT" && mkdir -p "$ROOTFS"
  for deb in "$APT"/debs/*.deb; do dpkg-deb -x "$deb" "$ROOTFS"; done
  mkdir -p "$ROOTFS/var/task" "$ROOTFS/var/runtime" "$ROOTFS/opt" "$ROOTFS/tmp" "$ROOTFS/etc/ssl/certs"
  chmod 1777 "$ROOTFS/tmp"
  for applet in sh mv chmod cp ls cat mkdir rm ln echo env sleep; do
    ln -sf busybox "$ROOTFS/bin/$applet"
  done
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/"
  echo "root:x:0:0:root:/root:/bin/sh" > "$ROOTFS/etc/passwd"
  tar -C "$ROOTFS" -cf "$CONTEXT/rootfs.tar" .
  rm -rf "$ROOTFS"
  cat > "$CONTEXT/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin:/usr/bin:/bin LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
DOCKERFILE
  # The legacy builder: BuildKit is not packaged with docker.io, and it honours --platform.
  DOCKER_BUILDKIT=0 docker build --platform linux/arm64 -t "$IMAGE" "$CONTEXT" > "$CONTEXT/build.log" 2>&1 \
    || { cat "$CONTEXT/build.log" >&2; exit 1; }
  docker run --rm --platform linux/arm64 --network none "$IMAGE" /bin/sh -c 'echo arm64 base image runs' \
    || { echo "error: the arm64 base image does not run (is qemu-aarch64 registered with binfmt_misc?)" >&2; exit 1; }
fi
# Under sudo, the caller's own runs write their files here too.
[ -n "${SUDO_UID:-}" ] && chown "$SUDO_UID:$SUDO_GID" "$STATE"
step "ready (DOCKER_HOST=$DOCKER_HOST)"
