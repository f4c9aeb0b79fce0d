#!/usr/bin/env bash
# Run the development platform: migrate, load the demo data once, then the web site, a grading worker and the
# upkeep worker (with beat) together.
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
  echo "Stopping the web site and the workers..."
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "Stopped."
}
trap stop INT TERM EXIT

var_dir="${VAR_DIR:-var}"  # the settings' default
mkdir -p "$var_dir"
# The grading worker: the sandbox queues, one notebook per process.
.venv/bin/celery -A hackathon.config worker --hostname "grading@%h" \
  --queues cpu,gpu --concurrency "${WORKER_CONCURRENCY:-1}" --loglevel INFO &
pids+=($!)
# The upkeep worker: announcement emails and the periodic tasks (settings' CELERY_TASK_ROUTES), in a process of
# its own so that they never wait behind grading. It carries beat (exactly one per site), so beat does not stop
# with a grading worker. Threads: light tasks, and no per-process sandbox warm-up (grading/tasks.py).
.venv/bin/celery -A hackathon.config worker --hostname "upkeep@%h" --beat --schedule "$var_dir/celerybeat-schedule" \
  --queues upkeep --pool threads --concurrency 2 --loglevel INFO &
pids+=($!)
"$py" manage.py runserver "$host:$port" &
pids+=($!)
echo "The site runs on http://$host:$port/ with its workers beside it. Press Ctrl-C to stop them all."
# Whichever stops first brings the others down with it.
wait -n "${pids[@]}"
