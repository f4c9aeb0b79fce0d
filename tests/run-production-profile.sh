#!/usr/bin/env bash
# Run the database and broker tests again in the production profile against real PostgreSQL and Redis.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
pg_url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/hackathon}"
redis_url="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
cache_url="${TEST_CACHE_URL:-${redis_url%/*}/14}"  # the broker's Redis server, a database of its own

reason=$("$py" - "$pg_url" "$redis_url" "$cache_url" <<'PY'
import sys
import psycopg, redis
pg, rd, cache = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    psycopg.connect(pg.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
except Exception as error:
    print(f"PostgreSQL is not reachable at {pg} ({type(error).__name__})"); sys.exit()
try:
    # Start from an empty test database: a message left by an earlier run's killed worker must not linger.
    redis.Redis.from_url(rd, socket_connect_timeout=3).flushdb()
except Exception as error:
    print(f"Redis is not reachable at {rd} ({type(error).__name__})")
    sys.exit()
try:
    redis.Redis.from_url(cache, socket_connect_timeout=3).ping()
except Exception as error:
    print(f"the cache's Redis is not reachable at {cache} ({type(error).__name__})")
PY
)
if [ -n "$reason" ]; then
  echo "SKIPPED the production-profile run: $reason."
  exit 0
fi

echo "Production-profile run: PostgreSQL $pg_url, Redis $redis_url (broker), $cache_url (cache)"
HACKATHON_ENV=production \
SECRET_KEY="test-only-$(date +%s)" \
HIDDEN_SET_SECRET="test-only-hidden-$(date +%s)" \
DATABASE_URL="$pg_url" \
CELERY_BROKER_URL="$redis_url" \
CACHE_URL="$cache_url" \
ALLOWED_HOSTS="testserver,127.0.0.1,localhost" \
SECURE_SSL_REDIRECT=false \
VAR_DIR="${VAR_DIR:-$PWD/var/production-tests}" \
  "$py" -m pytest -m production_profile -p no:cacheprovider "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "The production-profile run selected no test: mark database and broker tests with production_profile."
  exit 1
fi
exit $rc
