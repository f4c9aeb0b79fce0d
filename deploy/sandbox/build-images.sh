#!/usr/bin/env bash
# Build the exercise runtime images offline: no image is pulled, no build step reaches the network.
#
#   deploy/sandbox/build-images.sh            build ml-infn/base:bookworm and ml-infn/runtime-cpu
#   deploy/sandbox/build-images.sh --gpu      also build ml-infn/runtime-gpu (about 3 GB of CUDA wheels)
#   deploy/sandbox/build-images.sh --relock   re-pin runtime-*.lock from runtime-*.in (needs uv and an index)
#
# Steps, each skipped when its cached result is still current (the script is idempotent):
#   1. a Docker engine answers (start-dockerd.sh starts one as root when none does);
#   2. ml-infn/base:bookworm: `debootstrap --variant=minbase bookworm` with Debian's python3 and python3-venv,
#      trimmed, tarred to var/docker-build/base-bookworm.tar and `docker import`ed;
#   3. the wheels of runtime-<kind>.lock, fetched on the host with `pip download` for CPython 3.11 manylinux
#      (Debian bookworm's python3) into var/docker-build/wheels-<kind>/;
#   4. `docker build --network=none` of Dockerfile.<kind> with those wheels, tagged
#      ml-infn/runtime-<kind>:<VERSION> and :latest.
# Each image carries the label ml-infn.recipe, a hash of what it was built from; a changed recipe rebuilds.
#
# Environment: DEBIAN_MIRROR (default: the first Debian mirror in /etc/apt/sources.list*),
# DOCKER_BUILD_CACHE (default var/docker-build), PIP (default .venv/bin/pip or python3 -m pip).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${DOCKER_BUILD_CACHE:-$repo/var/docker-build}"
version="$(tr -d '[:space:]' < "$here/VERSION")"
suite=bookworm
base_image="ml-infn/base:$suite"
# python3-venv brings ensurepip's pip wheel, which installs the runtime's wheels inside the image.
base_packages="python3,python3-venv"

kinds=(cpu)
relock=0
for arg in "$@"; do
    case "$arg" in
        --gpu) kinds=(cpu gpu) ;;
        --relock) relock=1 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "build-images: unknown argument $arg (try --help)" >&2; exit 2 ;;
    esac
done

say() { echo "build-images: $*"; }
fail() { echo "build-images: $*" >&2; exit 1; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
image_recipe() { docker image inspect --format '{{ index .Config.Labels "ml-infn.recipe" }}' "$1" 2>/dev/null || true; }

if [ "$relock" = 1 ]; then
    uv="$repo/.venv/bin/uv"
    [ -x "$uv" ] || uv="$(command -v uv)" || fail "--relock needs uv (pip install uv)."
    # Resolve against the same indexes `pip download` will use below (uv does not read pip's configuration).
    indexes=()
    for url in $("$repo/.venv/bin/pip" config get global.extra-index-url 2>/dev/null || true); do
        indexes+=(--extra-index-url "$url")
    done
    for kind in cpu gpu; do
        say "re-pinning runtime-$kind.lock (constrained by requirements.lock)"
        # Run from the repository root so the lock's comments name relative paths.
        (cd "$repo" && "$uv" pip compile "deploy/sandbox/runtime-$kind.in" -c requirements.lock \
            --python-version 3.11 --python-platform x86_64-manylinux_2_36 --generate-hashes \
            "${indexes[@]}" --index-strategy unsafe-best-match --quiet -o "deploy/sandbox/runtime-$kind.lock")
    done
    exit 0
fi

started=$SECONDS

# 1. An engine.
"$here/start-dockerd.sh"

# 2. The base image from a debootstrap tree.
debian_mirror() {
    # The first Debian (not security) mirror apt is configured with, in one-line or deb822 format.
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -oE '(https?|file)://[^ ]*/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true
}
mirror="${DEBIAN_MIRROR:-$(debian_mirror)}"
mirror="${mirror:-http://deb.debian.org/debian}"
base_recipe="$(echo "$suite $base_packages minbase trim-v1" | sha256sum | cut -c1-16)"
mkdir -p "$cache"
if [ "$(image_recipe "$base_image")" = "$base_recipe" ]; then
    say "$base_image is current."
else
    tarball="$cache/base-$suite.tar"
    if [ ! -f "$tarball" ] || [ "$(cat "$tarball.recipe" 2>/dev/null)" != "$base_recipe" ]; then
        if ! command -v debootstrap >/dev/null 2>&1; then
            [ "$(id -u)" = 0 ] || fail "debootstrap is missing; install it (apt-get install debootstrap) or run as root."
            say "installing debootstrap"
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq debootstrap >/dev/null \
                || fail "apt-get install debootstrap failed; run apt-get update first."
        fi
        [ "$(id -u)" = 0 ] || fail "debootstrap needs root to build the base tree."
        rootfs="$cache/rootfs-$suite"
        rm -rf "$rootfs"
        say "debootstrap $suite from $mirror (a few minutes)"
        debootstrap --variant=minbase --include="$base_packages" "$suite" "$rootfs" "$mirror" \
            > "$cache/debootstrap.log" 2>&1 || { tail -n 20 "$cache/debootstrap.log" >&2; fail "debootstrap failed (log above)."; }
        # The image never runs apt (it has no network): drop the package caches, docs and translations.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
               "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* \
               "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old
        tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        echo "$base_recipe" > "$tarball.recipe"
        rm -rf "$rootfs"
    fi
    say "importing $base_image"
    docker import --change "LABEL ml-infn.recipe=$base_recipe" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "$tarball" "$base_image" >/dev/null
fi

# 3 and 4. The wheels and the runtime images.
if [ -n "${PIP:-}" ]; then
    read -r -a pip <<< "$PIP"  # e.g. PIP="python3 -m pip"
elif [ -x "$repo/.venv/bin/pip" ]; then
    pip=("$repo/.venv/bin/pip")
else
    pip=(python3 -m pip)
fi
# pip does not widen a target platform to older manylinux tags, so name every glibc up to bookworm's 2.36.
platforms=()
for minor in $(seq 36 -1 5); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64)

for kind in "${kinds[@]}"; do
    image="ml-infn/runtime-$kind"
    lock="$here/runtime-$kind.lock"
    recipe="$(hash_of "$here/Dockerfile.$kind" "$lock" "$here/VERSION" <(echo "$base_recipe"))"
    if [ "$(image_recipe "$image:$version")" = "$recipe" ]; then
        say "$image:$version is current."
        docker tag "$image:$version" "$image:latest"
        continue
    fi
    context="$cache/context-$kind"
    wheels="$context/wheels"
    # A changed lock starts from an empty folder so stale wheels do not bloat the build context.
    if [ "$(cat "$context/lock.sha" 2>/dev/null)" != "$(hash_of "$lock")" ]; then
        rm -rf "$context"
    fi
    mkdir -p "$wheels"
    say "downloading the wheels of runtime-$kind.lock into $wheels"
    "${pip[@]}" download --quiet --no-deps --require-hashes -r "$lock" -d "$wheels" \
        --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
        "${platforms[@]}" --only-binary=:all: 2> >(grep -v 'is ignored: it is neither' >&2) \
        || fail "pip download failed for runtime-$kind.lock; check the package index (pip config list)."
    hash_of "$lock" > "$context/lock.sha"
    cp "$lock" "$context/runtime.lock"
    say "building $image:$version with no network"
    # The legacy builder is used on purpose: BuildKit may want to pull its frontend, and --network=none
    # is honoured by both.
    DOCKER_BUILDKIT=0 docker build --network=none \
        --build-arg "BASE=$base_image" \
        --label "ml-infn.recipe=$recipe" --label "org.opencontainers.image.version=$version" \
        -f "$here/Dockerfile.$kind" -t "$image:$version" -t "$image:latest" "$context" \
        > "$cache/build-$kind.log" 2>&1 \
        || { tail -n 30 "$cache/build-$kind.log" >&2; fail "docker build of $image failed (log above)."; }
    # Drop the previous recipe's final image (now untagged); the install stage stays as build cache.
    docker image prune --force --filter "label=ml-infn.runtime=$kind" >/dev/null || true
done

for kind in "${kinds[@]}"; do
    size="$(docker image inspect --format '{{ .Size }}' "ml-infn/runtime-$kind:$version")"
    say "ml-infn/runtime-$kind:$version is ready ($((size / 1024 / 1024)) MiB)."
done
say "done in $((SECONDS - started)) s."
