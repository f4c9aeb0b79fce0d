#!/usr/bin/env bash
# Smoke-run the production stack on this machine with locally built images and the host's PostgreSQL and Redis.
#
#   sudo deploy/smoke-run.sh          start migrate, web, worker-cpu, worker-upkeep, beat and flower; grade one
#                                     submission; stop
#   KEEP=1 sudo deploy/smoke-run.sh   leave the containers, their database and their secrets folder (named at
#                                     the end) in place; remove them with docker rm -f $(docker ps -aq --filter
#                                     label=ml-infn.smoke) and rm -rf /tmp/ml-infn-smoke-secrets.*
#
# It runs the containers compose.yaml describes, one `docker run` each, because no compose CLI can be installed
# here (Debian's docker.io has none, and nothing can be pulled): same image, same user, same secrets as files
# under /run/secrets, the same mounts (the socket and the private data for the worker only, identical host paths
# under /srv/ml-infn), host networking so that PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) of the host
# stand in for the compose services. Needs: ml-infn/hackathon:latest (deploy/build-app-image.sh) and
# ml-infn/runtime-cpu:latest (deploy/sandbox/build-images.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="${HACKATHON_IMAGE:-ml-infn/hackathon:latest}"
root=/srv/ml-infn
database=hackathon_smoke
port="${SMOKE_PORT:-8765}"
flower_port="${SMOKE_FLOWER_PORT:-5565}"
redis_url="redis://127.0.0.1:6379/${SMOKE_REDIS_DB:-11}"
cache_url="redis://127.0.0.1:6379/${SMOKE_CACHE_DB:-12}"
secrets="$(mktemp -d /tmp/ml-infn-smoke-secrets.XXXXXX)"
started=$SECONDS

say() { echo "smoke-run: $*"; }
fail() { echo "smoke-run: $*" >&2; exit 1; }

docker image inspect "$image" >/dev/null 2>&1 || fail "$image is missing; run deploy/build-app-image.sh first."
docker image inspect ml-infn/runtime-cpu:latest >/dev/null 2>&1 || fail "the runtime image is missing; run deploy/sandbox/build-images.sh."
pg_isready -q -h 127.0.0.1 || fail "no PostgreSQL answers on 127.0.0.1:5432."
[ "$(redis-cli -u "$redis_url" ping)" = PONG ] || fail "no Redis answers on 127.0.0.1:6379."

psql -q "postgres://postgres@127.0.0.1:5432/postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" \
    -c "CREATE DATABASE $database"
redis-cli -u "$redis_url" flushdb >/dev/null
redis-cli -u "$cache_url" flushdb >/dev/null
mkdir -p "$root"/{app,work,sandbox,private,media}
chown 10000:10000 "$root"/{app,work,sandbox,private,media}
python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$secrets/secret_key"
python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$secrets/hidden_set_secret"
echo "postgres://postgres@127.0.0.1:5432/$database" > "$secrets/database_url"
echo "admin:$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')" > "$secrets/flower_basic_auth"
chown -R 10000:10000 "$secrets"
chmod 0400 "$secrets"/*
docker_gid="$(stat -c %g /var/run/docker.sock)"

common=(--label ml-infn.smoke=1 --network host --user 10000:10000 --init --cap-drop ALL
    --security-opt no-new-privileges:true -v "$secrets:/run/secrets:ro"
    -e HACKATHON_ENV=production -e SECRET_KEY_FILE=/run/secrets/secret_key
    -e HIDDEN_SET_SECRET_FILE=/run/secrets/hidden_set_secret -e DATABASE_URL_FILE=/run/secrets/database_url
    -e CELERY_BROKER_URL="$redis_url" -e CACHE_URL="$cache_url" -e ALLOWED_HOSTS=localhost -e SITE_URL="http://localhost:$port"
    -e SECURE_SSL_REDIRECT=false -e MEDIA_ROOT=$root/media -e PRIVATE_DATA_ROOT=$root/private
    -e GRADING_WORK_DIR=$root/work -e SANDBOX_STATE_DIR=$root/sandbox -e APP_DIR=$root/app -e LOG_LEVEL=INFO)
worker=(-v /var/run/docker.sock:/var/run/docker.sock --group-add "$docker_gid"
    -v "$root/media:$root/media" -v "$root/private:$root/private" -v "$root/work:$root/work"
    -v "$root/sandbox:$root/sandbox" -v "$root/app:$root/app" -e SANDBOX_BACKEND=docker)

cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then
        # The kept containers read their secrets from this folder (the healthchecks on every run, the entrypoint
        # on a restart): removing it would leave them failing.
        say "KEEP=1: the containers, the database $database and the secrets in $secrets are left in place."
        return
    fi
    docker rm -f $(docker ps -aq --filter label=ml-infn.smoke) >/dev/null 2>&1 || true
    psql -q "postgres://postgres@127.0.0.1:5432/postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" || true
    rm -rf "$secrets"
}
trap cleanup EXIT

say "migrate"
docker run --rm "${common[@]}" -v "$root/media:$root/media" "$image" migrate
say "starting web (:$port), worker-cpu, worker-upkeep, beat, flower (:$flower_port)"
docker run -d --name ml-infn-smoke-web "${common[@]}" -v "$root/media:$root/media" -e PORT="$port" \
    --health-cmd "/opt/ml-infn/app/deploy/healthcheck.py web" --health-interval 5s "$image" web >/dev/null
docker run -d --name ml-infn-smoke-worker-cpu "${common[@]}" "${worker[@]}" -e WORKER_QUEUES=cpu \
    -e WORKER_CONCURRENCY=1 --health-cmd "/opt/ml-infn/app/deploy/healthcheck.py worker" --health-interval 10s \
    --health-timeout 40s "$image" worker >/dev/null
# The upkeep queue (emails, beat's reaper and periodic tasks): no socket, no private data, as in compose.yaml.
docker run -d --name ml-infn-smoke-worker-upkeep "${common[@]}" -e WORKER_QUEUES=upkeep -e WORKER_CONCURRENCY=2 \
    --health-cmd "/opt/ml-infn/app/deploy/healthcheck.py worker" --health-interval 10s --health-timeout 40s \
    "$image" worker --pool threads >/dev/null
docker run -d --name ml-infn-smoke-beat "${common[@]}" \
    --health-cmd "/opt/ml-infn/app/deploy/healthcheck.py beat" --health-interval 10s "$image" beat >/dev/null
docker run -d --name ml-infn-smoke-flower "${common[@]}" -e FLOWER_BASIC_AUTH_FILE=/run/secrets/flower_basic_auth \
    -e FLOWER_PORT="$flower_port" --health-cmd "/opt/ml-infn/app/deploy/healthcheck.py flower" \
    --health-interval 5s "$image" flower >/dev/null

for name in web worker-cpu worker-upkeep beat flower; do
    for _ in $(seq 1 60); do
        health="$(docker inspect --format '{{.State.Health.Status}}' "ml-infn-smoke-$name")"
        [ "$health" = healthy ] && break
        [ "$(docker inspect --format '{{.State.Running}}' "ml-infn-smoke-$name")" = true ] \
            || { docker logs --tail 30 "ml-infn-smoke-$name" >&2; fail "$name stopped."; }
        sleep 3
    done
    [ "$health" = healthy ] || { docker logs --tail 30 "ml-infn-smoke-$name" >&2; fail "$name is $health."; }
    say "$name is healthy"
done

say "the site answers: $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost' "http://127.0.0.1:$port/accounts/login/") on /accounts/login/"
say "static files: $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost' "http://127.0.0.1:$port/static/admin/css/base.css") on /static/admin/css/base.css (WhiteNoise)"
say "the web container sees no engine: $(docker exec ml-infn-smoke-web sh -c 'test -e /var/run/docker.sock && echo SOCKET || echo no socket')"
say "the web container sees no private data: $(docker exec ml-infn-smoke-web sh -c "ls $root/private 2>/dev/null | wc -l") entries in $root/private"
say "the web and the worker share one cache: $(docker exec ml-infn-smoke-web /opt/ml-infn/app/deploy/entrypoint.sh \
    manage shell -v 0 -c "from django.core.cache import cache; cache.set('smoke', 'shared', 60)" >/dev/null && \
    docker exec ml-infn-smoke-worker-cpu /opt/ml-infn/app/deploy/entrypoint.sh manage shell -v 0 -c \
    "from django.core.cache import cache; print(cache.get('smoke'))")"
say "grading one submission through the worker (docker sandbox)"
docker run --rm -i "${common[@]}" -v "$root/media:$root/media" "$image" manage shell < "$here/smoke_submission.py" \
    || fail "the submission was not scored (its status and message are above; the worker's log: docker logs ml-infn-smoke-worker-cpu)."
say "done in $((SECONDS - started)) s."
