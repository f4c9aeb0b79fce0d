#!/usr/bin/env bash
# Start a Docker engine in the background when none answers, and wait until it does.
#
# For CI machines and development VMs without systemd: as root it installs docker.io when
# dockerd is missing (Debian/Ubuntu), starts dockerd with its log under var/docker-build/,
# and waits up to DOCKERD_WAIT_SECONDS (default 60) for `docker info` to succeed.
# Exits 0 when an engine answers, non-zero with the reason on stderr when it cannot.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${DOCKER_BUILD_CACHE:-$repo/var/docker-build}"
wait_seconds="${DOCKERD_WAIT_SECONDS:-60}"

fail() { echo "start-dockerd: $*" >&2; exit 1; }

if docker info >/dev/null 2>&1; then
    echo "start-dockerd: a Docker engine already answers."
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || fail "dockerd is not installed and only root can install it; run as root or install docker.io."
    command -v apt-get >/dev/null 2>&1 || fail "dockerd is not installed and apt-get is absent; install Docker by hand."
    echo "start-dockerd: installing docker.io with apt-get ..."
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be missing on a fresh machine; the lock timeout lets a parallel apt finish first.
    apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null \
        || fail "apt-get update failed; check /etc/apt/sources.list* and the network to the mirror."
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq docker.io >/dev/null \
        || fail "apt-get install docker.io failed; see the apt output above."
fi

[ "$(id -u)" = 0 ] || fail "no Docker engine answers and only root can start dockerd; start the docker service or run as root."
command -v docker >/dev/null 2>&1 || fail "the docker client is missing; install docker.io or docker-ce-cli."

mkdir -p "$state"
log="$state/dockerd.log"
pidfile="$state/dockerd.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "start-dockerd: dockerd (pid $(cat "$pidfile")) is already starting; waiting for it."
else
    echo "start-dockerd: starting dockerd in the background, log in $log"
    # setsid detaches it from this script's session so it outlives the CI step that started it.
    setsid dockerd --pidfile "$state/dockerd.engine.pid" >>"$log" 2>&1 < /dev/null &
    echo $! > "$pidfile"
fi

for _ in $(seq 1 "$wait_seconds"); do
    if docker info >/dev/null 2>&1; then
        echo "start-dockerd: the Docker engine answers."
        exit 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "start-dockerd: dockerd exited; last lines of $log:" >&2
        tail -n 20 "$log" >&2 || true
        fail "dockerd could not start (see the log lines above)."
    fi
    sleep 1
done
tail -n 20 "$log" >&2 || true
fail "dockerd did not answer within ${wait_seconds}s (see the log lines above)."
