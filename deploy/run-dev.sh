#!/usr/bin/env bash
# Run the development platform: migrate, load the demo data once, then the web site and a Celery worker together.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
host="${HOST:-127.0.0.1}"
port="${PORT:-8000}"
# Links in the printed emails and the demo's first lines must point where this site answers.
export SITE_URL="${SITE_URL:-http://$host:$port}"

"$py" manage.py migrate --noinput
"$py" manage.py load_demo

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the web site and the worker..."
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "Stopped."
}
trap stop INT TERM EXIT

var_dir="${VAR_DIR:-var}"  # the settings' default
mkdir -p "$var_dir"
.venv/bin/celery -A hackathon.config worker --beat --schedule "$var_dir/celerybeat-schedule" \
  --queues cpu,gpu --concurrency "${WORKER_CONCURRENCY:-1}" --loglevel INFO &
pids+=($!)
"$py" manage.py runserver "$host:$port" &
pids+=($!)
echo "The site runs on http://$host:$port/ with a worker beside it. Press Ctrl-C to stop both."
# Whichever stops first brings the other down with it.
wait -n "${pids[@]}"
