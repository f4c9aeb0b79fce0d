"""Run the whole platform as separate processes: a migrated file database, the site (runserver), a Celery worker.

Used by the browser journeys and by the JupyterLab package's tests (jupyterlab-hackathon/), whose virtualenv has none
of the platform's packages: everything here is the standard library, and the platform runs with the project's .venv.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.browsing import ROOT, Site, wait_for

PYTHON = ROOT / ".venv" / "bin" / "python"
# Variables the settings read, found in the settings module itself so that a new one is never forgotten: the site
# gets exactly ours, never those of the shell that runs the tests.
SETTINGS_VARIABLES = frozenset(
    re.findall(
        r'(?:env_\w+|_required_in_production)\("([A-Z_]+)"', (ROOT / "hackathon" / "config" / "settings.py").read_text()
    )
) | {"DJANGO_SETTINGS_MODULE"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def site_env(var: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="hackathon.config.settings",
        HACKATHON_ENV="development",
        VAR_DIR=str(var),  # the secrets, the media, the private data, the sandbox state and the embedded broker
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        SANDBOX_BACKEND="bwrap",
        GRADING_STUCK_MINUTES="45",
        ACCOUNT_EMAIL_VERIFICATION="mandatory",
        PYTHONUNBUFFERED="1",  # the console mailer's output must reach the log while the test reads it
        SANDBOX_WARM_POOL="0",  # one site serves the whole session: warming TensorFlow would only cost CPU here
    )
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGCONT)  # a worker held by a failed test must be able to hear SIGTERM
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own localhost address)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def bwrap_missing_reason(state_dir: Path) -> str:
    from sandbox import SandboxConfig, get_backend

    return get_backend("bwrap", SandboxConfig(state_dir=state_dir)).unavailable_reason() or ""


@contextlib.contextmanager
def running_site(folder: Path) -> Iterator[Site]:
    """Seed a fresh database with tests/e2e/site_data.py, then run the site and a real worker until the block ends."""
    var = folder / "var"
    env = site_env(var)
    prepared = subprocess.run(
        [str(PYTHON), str(ROOT / "tests" / "e2e" / "site_data.py"), "prepare"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    seeded = json.loads(prepared.stdout.strip().splitlines()[-1])

    port = free_port()
    env["SITE_URL"] = f"http://127.0.0.1:{port}"  # the address the site's emails link to (invitations, offers)
    server_log, worker_log = folder / "site.log", folder / "worker.log"
    # One worker takes the upkeep queue too (announcement emails): no journey waits for an upkeep task behind a
    # grading one, so the separate upkeep process of `make run` and the deployments is not needed here.
    worker = start(
        [str(PYTHON), "-m", "celery", "-A", "hackathon.config", "worker", "-Q", "cpu,gpu,upkeep", "--concurrency", "1",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        env, worker_log,
    )  # fmt: skip
    server = start(
        [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"], env, server_log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(url + "/") or server.poll() is not None, 120, "the site to answer")
        assert server.poll() is None, server_log.read_text()[-3000:]
        wait_for(lambda: " ready." in worker_log.read_text() or worker.poll() is not None, 120, "the worker")
        assert worker.poll() is None, worker_log.read_text()[-3000:]
        yield Site(
            url=url,
            folder=folder,
            database=var / "db.sqlite3",
            server_log=server_log,
            worker_log=worker_log,
            worker=worker,
            env=env,
            seeded=seeded,
        )
    finally:
        for process in (server, worker):
            stop(process)
