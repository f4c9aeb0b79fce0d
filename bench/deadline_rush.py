"""The deadline rush: 60 participants upload at once over HTTP to gunicorn, two Celery workers grade them all.

Production settings on a throwaway PostgreSQL database and a Redis server of this script's own (a free port, no
persistence; the machine's shared Redis is never touched). Each participant sends the breast-cancer reference
notebook through the API with a personal token, as `hackathon-submit` does, all at the same moment. While the
workers drain the queue a prober keeps reading a submission's status (the API) and the event page (HTML), so the
site's latency under the rush is measured too. It fails unless every upload was recorded once and graded once.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from grading_drain import (  # noqa: E402 - the drain benchmark's event builder, workers and machine facts
    POSTGRES,
    PYTHON,
    REFERENCE,
    BenchmarkFailed,
    environment,
    machine,
    open_event_exercise,
    start_worker,
    stop,
    wait_until_ready,
)

DATABASE = "hackathon_bench_rush"
QUICK = json.dumps(
    {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": "import csv\nids = [r['id'] for r in csv.DictReader(open('data/test.csv'))]\n"
                "open('output/predictions.csv', 'w').write('id,score\\n' + ''.join(f'{i},0.5\\n' for i in ids))",
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
).encode()


@dataclass(frozen=True)
class Rush:
    """What the rush came to: uploads, the drain, and the site's answers meanwhile."""

    participants: int
    workers: int
    notebook: str
    upload_s_median: float
    upload_s_p95: float
    upload_s_max: float
    uploads_all_201: bool
    burst_s: float  # from the first upload sent to the last one answered
    drain_s: float  # from the first upload sent to the last submission final
    statuses: dict[str, int]
    attempts: dict[int, int]
    probe_requests: int
    probe_errors: int
    probe_s_median: float
    probe_s_p95: float
    probe_s_max: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database(action: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        if action == "create":
            admin.execute(f"CREATE DATABASE {DATABASE}")


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - our own loopback server
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise BenchmarkFailed(f"gunicorn did not answer at {url} within {timeout:.0f} s")


def _multipart(fields: dict[str, str], notebook: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="notebook"; filename="mine.ipynb"\r\n'
        "Content-Type: application/x-ipynb+json\r\n\r\n".encode()
        + notebook
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(base: str, token: str, event: str, exercise: str, notebook: bytes) -> tuple[int, float, str]:
    body, content_type = _multipart({"event": event, "exercise": exercise}, notebook)
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        f"{base}/api/v1/submissions/",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback
            answer = json.loads(response.read())
            return response.status, time.monotonic() - started, answer.get("uid", "")
    except urllib.error.HTTPError as error:
        return error.code, time.monotonic() - started, error.read().decode()[:200]


class Prober(threading.Thread):
    """Read a submission's status and the event page in turn until stopped, timing each answer."""

    def __init__(self, base: str, token: str, paths: list[str]) -> None:
        super().__init__(daemon=True)
        self.base, self.token, self.paths = base, token, paths
        self.times: list[float] = []
        self.errors = 0
        self.last_error = ""
        self.halt = threading.Event()

    def run(self) -> None:
        turn = 0
        while not self.halt.is_set():
            path = self.paths[turn % len(self.paths)]
            turn += 1
            headers = {"Authorization": f"Bearer {self.token}"}
            request = urllib.request.Request(f"{self.base}{path}", headers=headers)  # noqa: S310 - loopback
            started = time.monotonic()
            try:
                urllib.request.urlopen(request, timeout=30).read()  # noqa: S310 - loopback
                self.times.append(time.monotonic() - started)
            except OSError as error:
                self.errors += 1
                self.last_error = f"{path}: {error}"
            self.halt.wait(0.25)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def rush(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> Rush:
    from django.db.models import Max, Min

    from exercises.services import ensure_dataset
    from grading.api_auth import create_token
    from grading.models import Submission

    event_exercise, participants = open_event_exercise(args.participants, "rush")
    ensure_dataset(event_exercise.exercise, event_exercise.secret_seed)  # built once per event, not per upload
    tokens = [create_token(user=person, name="rush").secret for person in participants]
    notebook = REFERENCE.read_bytes() if args.notebook == "reference" else QUICK
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    web_log = (tmp / "gunicorn.log").open("w")
    gunicorn = subprocess.Popen(
        [str(PYTHON), "-m", "gunicorn", "hackathon.config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.web_workers), "--timeout", "120"],
        cwd=ROOT, env=env, stdout=web_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    logs = [tmp / f"worker{i}.log" for i in range(args.workers)]
    workers = [start_worker(f"rush{i}", env, log) for i, log in enumerate(logs)]
    try:
        _wait_http(f"{base}/", 60)
        wait_until_ready(workers, logs, 120)
        event, exercise = event_exercise.event.slug, event_exercise.exercise.slug
        gate = threading.Barrier(len(tokens))

        def one(token: str) -> tuple[int, float, str]:
            gate.wait()  # every participant presses Submit at the same moment
            return upload(base, token, event, exercise, notebook)

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            answers = list(pool.map(one, tokens))
        burst_s = time.monotonic() - started
        uids = [uid for status, _, uid in answers if status == 201]
        prober = Prober(base, tokens[0], [f"/api/v1/submissions/{uids[0]}/" if uids else "/", f"/events/{event}/"])
        prober.start()
        burst = Submission.objects.filter(event_exercise=event_exercise)
        deadline = started + args.timeout
        while burst.exclude(status__in=Submission.FINAL).exists() or burst.count() < len(uids):
            if time.monotonic() > deadline:
                raise BenchmarkFailed(f"not every submission was final after {args.timeout:.0f} s")
            if any(w.poll() is not None for w in workers) or gunicorn.poll() is not None:
                raise BenchmarkFailed("a worker or gunicorn died during the rush")
            time.sleep(0.5)
        drain_s = time.monotonic() - started
        prober.halt.set()
        prober.join(10)
        if prober.errors:
            print(f"{prober.errors} probe errors; the last: {prober.last_error}", flush=True)
        span = burst.aggregate(first=Min("created_at"), last=Max("finished_at"))
    finally:
        stop(workers)
        stop([gunicorn])
    rows = list(burst.values("participant_id", "status", "attempts"))
    statuses: dict[str, int] = {}
    attempts: dict[int, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
        attempts[row["attempts"]] = attempts.get(row["attempts"], 0) + 1
    people = {row["participant_id"] for row in rows}
    upload_times = [seconds for _, seconds, _ in answers]
    all_201 = all(status == 201 for status, _, _ in answers)
    if not all_201 or len(rows) != len(tokens) or len(people) != len(tokens):
        raise BenchmarkFailed(f"uploads {[s for s, _, _ in answers]}: {len(rows)} rows for {len(tokens)} people")
    if statuses != {"scored": len(tokens)} or attempts != {1: len(tokens)}:
        raise BenchmarkFailed(f"expected each scored at its first attempt: {statuses}, {attempts}")
    print(f"database span of the rush: {(span['last'] - span['first']).total_seconds():.1f} s", flush=True)
    return Rush(
        participants=len(tokens),
        workers=args.workers,
        notebook=args.notebook,
        upload_s_median=statistics.median(upload_times),
        upload_s_p95=_p95(upload_times),
        upload_s_max=max(upload_times),
        uploads_all_201=all_201,
        burst_s=burst_s,
        drain_s=drain_s,
        statuses=statuses,
        attempts=attempts,
        probe_requests=len(prober.times),
        probe_errors=prober.errors,
        probe_s_median=statistics.median(prober.times) if prober.times else float("nan"),
        probe_s_p95=_p95(prober.times) if prober.times else float("nan"),
        probe_s_max=max(prober.times) if prober.times else float("nan"),
    )


def markdown(result: Rush, info: dict[str, str]) -> str:
    r = result
    return "\n".join(
        [
            f"Measured by `bench/deadline_rush.py --notebook {r.notebook}` on `{info['uname']}`; {info['nproc']} "
            f"CPUs; {info['cpu']}; load average (1 min) {info['load_at_start']} at the start, {info['load']} at "
            "the end.",
            "",
            "| participants | workers | uploads: median / p95 / max (s) | all 201 | burst answered in (s) | "
            "drain (s) | web during the drain: median / p95 / max (s), requests | outcome |",
            "|---|---|---|---|---|---|---|---|",
            f"| {r.participants} | {r.workers} | {r.upload_s_median:.2f} / {r.upload_s_p95:.2f} / "
            f"{r.upload_s_max:.2f} | {'yes' if r.uploads_all_201 else 'no'} | {r.burst_s:.1f} | {r.drain_s:.1f} | "
            f"{r.probe_s_median:.3f} / {r.probe_s_p95:.3f} / {r.probe_s_max:.3f}, {r.probe_requests} "
            f"({r.probe_errors} errors) | each recorded once, scored at its first attempt |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="Celery workers grading (default 2)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes (default 2, as deployed)")
    parser.add_argument(
        "--notebook",
        choices=["reference", "quick"],
        default="reference",
        help="the breast-cancer reference notebook (trains a model), or a one-cell constant score (default reference)",
    )
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path, help="also write the result to this JSON file")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is needed: this benchmark starts its own on a free port.")
    load_at_start = machine()["load"]
    redis_port = _free_port()
    redis_server = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    broker = f"redis://127.0.0.1:{redis_port}/0"
    try:
        _database("create")
    except Exception as error:
        redis_server.kill()
        sys.exit(f"PostgreSQL ({POSTGRES}) must be reachable: {type(error).__name__}: {error}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-rush-") as tmp:
            var_dir = Path(tmp) / "var"
            env = {
                **os.environ,
                **environment(var_dir, broker, "bwrap", 0),
                "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; a proxy ends TLS in production
                "SUBMISSIONS_PER_DAY": "10",
            }
            os.environ.update(env)
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            from django.core.management import call_command

            from exercises.services import sync_builtin_exercises

            call_command("migrate", verbosity=0)
            call_command("collectstatic", "--noinput", verbosity=0)  # WhiteNoise's manifest, as a deployment has
            sync_builtin_exercises()
            try:
                result = rush(args, env, Path(tmp))
            finally:
                from django.db import connections

                connections.close_all()
    finally:
        redis_server.kill()
        _database("drop")
    info = {**machine(), "load_at_start": load_at_start}
    print(json.dumps(asdict(result)))
    print()
    print(markdown(result, info))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "rush": asdict(result)}, indent=2))


if __name__ == "__main__":
    main()
