#!/usr/bin/env bash
# Build the platform's image (ml-infn/hackathon) offline, FROM the Debian base that the sandbox images use.
#
#   deploy/build-app-image.sh          build ml-infn/hackathon:<git short hash> and :latest
#
# Steps:
#   1. a Docker engine answers (deploy/sandbox/start-dockerd.sh starts one as root when none does);
#   2. ml-infn/base:bookworm exists (deploy/sandbox/build-images.sh makes it from a debootstrap tree);
#   3. requirements.lock is narrowed to what Debian bookworm's Python 3.11.2 on x86_64 installs (the lock is
#      universal: its markers pick Django 5.2 there), and those wheels plus Flower's are fetched on the host
#      with `pip download` into var/docker-build/context-app/wheels/ (cached: only missing wheels are fetched);
#   4. the code (hackathon, grading, exercises, sandbox, manage.py, the deploy scripts) is copied into the
#      context, and `docker build --network=none` builds deploy/Dockerfile; nothing is pulled.
# Environment: DOCKER_BUILD_CACHE (default var/docker-build), PIP (default .venv/bin/pip), TAG (default the
# commit's short hash).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${DOCKER_BUILD_CACHE:-$repo/var/docker-build}"
context="$cache/context-app"
image=ml-infn/hackathon
base=ml-infn/base:bookworm
tag="${TAG:-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo dev)}"

say() { echo "build-app-image: $*"; }
fail() { echo "build-app-image: $*" >&2; exit 1; }
started=$SECONDS

"$repo/deploy/sandbox/start-dockerd.sh" >/dev/null
docker image inspect "$base" >/dev/null 2>&1 \
    || fail "$base is missing; build it first with deploy/sandbox/build-images.sh (it needs no registry)."

if [ -n "${PIP:-}" ]; then
    read -r -a pip <<< "$PIP"
elif [ -x "$repo/.venv/bin/pip" ]; then
    pip=("$repo/.venv/bin/pip")
else
    pip=(python3 -m pip)
fi
python="${pip[0]%/pip}/python"
[ -x "$python" ] || python=python3

mkdir -p "$context/wheels"
# pip evaluates a lock's markers for the interpreter running pip, not for --python-version: narrow it here.
"$python" - "$repo/requirements.lock" "$context/requirements.lock" <<'EOF'
import sys
from packaging.requirements import Requirement

target = {
    "python_version": "3.11", "python_full_version": "3.11.2", "sys_platform": "linux",
    "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
    "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": "",
}
kept = []
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    if req.marker is None or req.marker.evaluate(target):
        kept.append(f"{req.name}{req.specifier}")
open(sys.argv[2], "w").write("\n".join(kept) + "\n")
print(f"build-app-image: {len(kept)} pinned packages for Python 3.11.2 on Linux x86_64")
EOF
cp "$here/requirements-flower.txt" "$context/requirements-flower.txt"

platforms=()
for minor in $(seq 36 -1 5); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64)
say "downloading the wheels into $context/wheels"
"${pip[@]}" download --quiet --no-deps -r "$context/requirements.lock" -r "$context/requirements-flower.txt" \
    -d "$context/wheels" --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
    "${platforms[@]}" --only-binary=:all: 2> >(grep -v 'is ignored: it is neither' >&2) \
    || fail "pip download failed; check the package index (pip config list)."

# The code only: no var/, no .venv, no caches, no tests (the image runs the platform, not its test suite).
rm -rf "$context/app"
mkdir -p "$context/app/deploy"
(cd "$repo" && tar -cf - --exclude=__pycache__ --exclude='*.pyc' hackathon grading exercises sandbox manage.py \
    pyproject.toml) | tar -C "$context/app" -xf -
cp "$here/entrypoint.sh" "$here/healthcheck.py" "$context/app/deploy/"
echo "$tag" > "$context/app/BUILD_ID"

say "building $image:$tag with no network"
# The legacy builder: BuildKit may want to pull its frontend image, and --network=none is honoured by both.
DOCKER_BUILDKIT=0 docker build --network=none --build-arg "BASE=$base" \
    --label "org.opencontainers.image.version=$tag" \
    -f "$here/Dockerfile" -t "$image:$tag" -t "$image:latest" "$context" > "$cache/build-app.log" 2>&1 \
    || { tail -n 30 "$cache/build-app.log" >&2; fail "docker build of $image failed (log above)."; }
size="$(docker image inspect --format '{{ .Size }}' "$image:$tag")"
say "$image:$tag is ready ($((size / 1024 / 1024)) MiB) in $((SECONDS - started)) s."
