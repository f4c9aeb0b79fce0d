#!/opt/venv/bin/python
"""Tell Docker or Kubernetes whether this container's role is healthy: exit 0 when it is, 1 when not."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT_S = 8.0
# The same list as the entrypoint's SECRET_VARIABLES: a healthcheck is exec'd apart from the entrypoint, so it
# must read the *_FILE secrets itself before Django's production settings will load.
SECRET_VARIABLES = (
    "SECRET_KEY",
    "HIDDEN_SET_SECRET",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "EMAIL_HOST_PASSWORD",
    "OIDC_CLIENT_SECRET",
    "FLOWER_BASIC_AUTH",
)


def environment_with_secrets() -> dict[str, str]:
    """Return this environment with each NAME_FILE secret read into NAME, as the entrypoint does."""
    env = dict(os.environ)
    for name in SECRET_VARIABLES:
        path = env.pop(f"{name}_FILE", None)
        if path and name not in env:
            env[name] = Path(path).read_text().rstrip("\n")
    return env


def web_is_healthy(port: int) -> bool:
    """Ask the site for its home page as the proxy would: a configured host name, over "https"."""
    host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".") or "localhost"
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL on the loopback
        f"http://127.0.0.1:{port}/", headers={"Host": host, "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:  # noqa: S310
            return reply.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500  # a redirect to sign in or a 404 still proves the site answers
    except OSError:
        return False


def worker_is_healthy() -> bool:
    """Ping this worker, and only it, through the broker: a live process that cannot reach the broker is ill."""
    queues = os.environ.get("WORKER_QUEUES", "cpu")
    name = f"{os.environ.get('WORKER_NAME') or queues.replace(',', '-')}@{socket.gethostname()}"
    reply = subprocess.run(
        ["celery", "-A", "hackathon.config", "inspect", "ping", "--destination", name, "--timeout", "5"],
        env=environment_with_secrets(),
        cwd=os.environ.get("APP_DIR", "/srv/ml-infn/app"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S + 20,
        check=False,
    )
    return reply.returncode == 0 and "pong" in reply.stdout


def beat_is_healthy() -> bool:
    """Beat rewrites its schedule file as it runs its tasks; a file untouched for ten minutes means it hangs."""
    schedule = Path(os.environ.get("BEAT_SCHEDULE_FILE", "/var/lib/ml-infn/celerybeat-schedule"))
    candidates = [p for p in schedule.parent.glob(schedule.name + "*") if p.is_file()]
    return any(time.time() - p.stat().st_mtime < 600 for p in candidates)


def main() -> int:
    role = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ROLE", "web")
    if role == "web":
        healthy = web_is_healthy(int(os.environ.get("PORT", "8000")))
    elif role == "flower":
        healthy = web_is_healthy(int(os.environ.get("FLOWER_PORT", "5555")))
    elif role == "worker":
        healthy = worker_is_healthy()
    elif role == "beat":
        healthy = beat_is_healthy()
    else:
        print(f"healthcheck: unknown ROLE={role!r}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
