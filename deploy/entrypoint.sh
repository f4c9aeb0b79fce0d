#!/usr/bin/env bash
# Start one role of the platform from its image: web, worker, beat, flower, migrate or manage.
#
#   entrypoint.sh web                 gunicorn on :8000 (WEB_CONCURRENCY processes, default 2)
#   entrypoint.sh worker              Celery worker on WORKER_QUEUES (default cpu); see concurrency below
#   entrypoint.sh beat                Celery beat: the reaper of stuck submissions, expiring offers
#   entrypoint.sh flower              Flower on :5555, watching the queues (FLOWER_BASIC_AUTH user:password)
#   entrypoint.sh migrate             apply migrations and sync the built-in exercises, then exit
#   entrypoint.sh manage ARGS...      any manage.py command
#
# Secrets: for each NAME in SECRET_VARIABLES, NAME_FILE may name a file holding the value (Docker and
# Kubernetes secrets are files); setting both NAME and NAME_FILE is refused, so no one wonders which won.
#
# Concurrency: WORKER_CONCURRENCY when set; otherwise a worker serving the gpu queue runs one process per
# device of SANDBOX_GPUS ("MODEL:ID,..."), and a CPU worker one per CPU core it may use.
#
# Code path: the code is synced from the image (/opt/ml-infn/app) to APP_DIR (default /srv/ml-infn/app)
# before start. Exercise bundles are stored in the database by absolute path, so every role must see the
# code at the same path; and a worker using the host's Docker engine must see it at the path the engine
# sees (its job binds name host paths), so there APP_DIR is a host folder mounted at the identical path.
#
# ENTRYPOINT_DRY_RUN=1 prints the final command instead of running it (the tests use it).
set -euo pipefail

SECRET_VARIABLES="SECRET_KEY HIDDEN_SET_SECRET DATABASE_URL CELERY_BROKER_URL CACHE_URL EMAIL_HOST_PASSWORD OIDC_CLIENT_SECRET FLOWER_BASIC_AUTH"
IMAGE_APP=/opt/ml-infn/app
APP_DIR="${APP_DIR:-/srv/ml-infn/app}"

fail() { echo "entrypoint: $*" >&2; exit 64; }

read_secret_files() {
    local name file
    for name in $SECRET_VARIABLES; do
        file="${name}_FILE"
        [ -n "${!file:-}" ] || continue
        [ -z "${!name:-}" ] || fail "both $name and $file are set; keep one of them."
        [ -r "${!file}" ] || fail "$file=${!file} cannot be read; mount the secret there or fix the path."
        # A trailing newline is how editors end files, never part of the secret.
        printf -v "$name" '%s' "$(cat "${!file}")"
        export "${name?}"
        unset "$file"
    done
}

sync_code() {
    # Nothing to do when the image's code is run in place (development images, tests).
    [ -d "$IMAGE_APP" ] && [ "$APP_DIR" != "$IMAGE_APP" ] || return 0
    mkdir -p "$APP_DIR"
    if [ "$(cat "$APP_DIR/BUILD_ID" 2>/dev/null)" != "$(cat "$IMAGE_APP/BUILD_ID" 2>/dev/null)" ]; then
        # Several workers of one host share APP_DIR: one copies, the others wait for it.
        (
            flock 9
            if [ "$(cat "$APP_DIR/BUILD_ID" 2>/dev/null)" != "$(cat "$IMAGE_APP/BUILD_ID")" ]; then
                find "$APP_DIR" -mindepth 1 -maxdepth 1 ! -name .sync.lock -exec rm -rf {} +
                cp -a "$IMAGE_APP/." "$APP_DIR/"
            fi
        ) 9>"$APP_DIR/.sync.lock"
    fi
    cd "$APP_DIR"
}

gpu_count() {
    # The sandbox's own parser, so the count matches the leases it hands out (MIG slices count one each).
    python -c 'import os, sys; from sandbox.gpus import parse_inventory; print(len(parse_inventory(os.environ.get("SANDBOX_GPUS", ""))))' \
        || fail "SANDBOX_GPUS='${SANDBOX_GPUS:-}' is not an inventory; write MODEL:ID,MODEL:ID (see the README)."
}

worker_concurrency() {
    if [ -n "${WORKER_CONCURRENCY:-}" ]; then
        echo "$WORKER_CONCURRENCY"
    elif [[ ",${WORKER_QUEUES:-cpu}," == *",gpu,"* ]]; then
        local gpus
        gpus="$(gpu_count)"
        [ "$gpus" -gt 0 ] || fail "a gpu worker needs SANDBOX_GPUS (MODEL:ID,...) or WORKER_CONCURRENCY."
        echo "$gpus"
    else
        nproc
    fi
}

run() {
    if [ "${ENTRYPOINT_DRY_RUN:-0}" = 1 ]; then
        printf '%s\n' "$*"
        exit 0
    fi
    exec "$@"
}

role="${1:-web}"
shift || true
read_secret_files
sync_code

case "$role" in
    web)
        run gunicorn hackathon.config.wsgi:application --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${WEB_CONCURRENCY:-2}" --timeout "${WEB_TIMEOUT:-60}" \
            --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" --access-logfile - --error-logfile - "$@"
        ;;
    worker)
        queues="${WORKER_QUEUES:-cpu}"
        # Assigned first: a failure inside $(...) in an argument list would not stop the script.
        concurrency="$(worker_concurrency)"
        run celery -A hackathon.config worker --queues "$queues" --concurrency "$concurrency" \
            --hostname "${WORKER_NAME:-${queues//,/-}}@%h" --prefetch-multiplier 1 --loglevel "${LOG_LEVEL:-INFO}" "$@"
        ;;
    beat)
        run celery -A hackathon.config beat --schedule "${BEAT_SCHEDULE_FILE:-/var/lib/ml-infn/celerybeat-schedule}" \
            --loglevel "${LOG_LEVEL:-INFO}" "$@"
        ;;
    flower)
        run celery -A hackathon.config flower --port="${FLOWER_PORT:-5555}" "$@"
        ;;
    migrate)
        if [ "${ENTRYPOINT_DRY_RUN:-0}" = 1 ]; then
            echo "python manage.py migrate --noinput && python manage.py sync_exercises"
            exit 0
        fi
        python manage.py migrate --noinput
        python manage.py sync_exercises
        ;;
    manage)
        run python manage.py "$@"
        ;;
    *)
        fail "unknown role '$role'; use web, worker, beat, flower, migrate or manage."
        ;;
esac
