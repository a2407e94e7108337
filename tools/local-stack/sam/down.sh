#!/usr/bin/env bash
# `make sam-down`: stops what `make sam-setup` and `make local SAM=1` started: the containers
# `sam local` left (start-api and start-lambda keep warm ones), then the project's dockerd and
# the bridge it made.
# The base image and the build stay (under .local/sam/), so the next sam-setup takes seconds;
# binfmt_misc's qemu-aarch64 entry stays registered (it is machine-wide and runs nothing).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
STATE="$ROOT/.local/sam"
export DOCKER_HOST="unix://$STATE/docker.sock"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# A `make local SAM=1` still running (its local-stack process writes its pid here).
if [ -f "$STATE/local.pid" ]; then
  pid="$(cat "$STATE/local.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    echo "sam-down: stopping the local stack (pid $pid)"
    kill -INT "$pid" 2>/dev/null || true
    # It stops sam local's servers, which remove their warm containers through dockerd: let
    # them finish before dockerd goes.
    for _ in $(seq 1 240); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$STATE/local.pid"
fi

if [ -f "$STATE/docker.pid" ] && kill -0 "$(cat "$STATE/docker.pid")" 2>/dev/null; then
  containers="$(docker ps -aq 2>/dev/null || true)"
  if [ -n "$containers" ]; then
    echo "sam-down: removing $(echo "$containers" | wc -l) container(s)"
    # shellcheck disable=SC2086
    docker rm -f $containers >/dev/null
  fi
  pid="$(cat "$STATE/docker.pid")"
  echo "sam-down: stopping dockerd (pid $pid)"
  $SUDO kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "error: dockerd (pid $pid) is still running after 15 s" >&2
    exit 1
  fi
else
  echo "sam-down: the project's dockerd is not running"
fi
rm -f "$STATE/docker.sock"
# The bridge dockerd made (it leaves it behind); it carries nothing once dockerd is gone.
if ip link show docker0 >/dev/null 2>&1 && ! pgrep -x dockerd >/dev/null; then
  echo "sam-down: removing the docker0 bridge"
  $SUDO ip link delete docker0
fi
