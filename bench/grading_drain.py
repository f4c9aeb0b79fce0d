"""Measure how long real Celery workers take to drain a burst of breast-cancer submissions on PostgreSQL and Redis."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():
    PYTHON = Path(sys.executable)
EXERCISE = "breast-cancer"
REFERENCE = ROOT / "exercises" / "bundles" / EXERCISE / "source.ipynb"
DATABASE = "hackathon_bench_drain"
POSTGRES = "postgres://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Drain:
    """One burst drained by some workers: how long it took and how the submissions ended."""

    workers: int
    submissions: int
    submit_s: float  # the submit calls themselves (record, store, queue)
    drain_s: float  # from the first enqueue to the last final state
    statuses: dict[str, int]
    attempts: dict[int, int]
    run_s_median: float  # a run as the worker saw it: claimed to finished
    sandbox_s_median: float  # the sandbox's own time inside that


class BenchmarkFailed(Exception):
    """The burst did not drain as it must: its time would mean nothing."""


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())

    def run(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()

    load = Path("/proc/loadavg").read_text().split()[0]  # other work on a shared machine shows here
    return {"uname": run("uname", "-a"), "nproc": run("nproc"), "cpu": cpu, "free": run("free", "-h"), "load": load}


# --- The throwaway database and broker ----------------------------------------------------------------------


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")


def drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def flush_broker(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=5).flushdb()


def environment(var_dir: Path, broker: str, backend: str, warm_pool: int) -> dict[str, str]:
    """Return the production-like settings shared by this process and the workers."""
    return {
        "DJANGO_SETTINGS_MODULE": "hackathon.config.settings",
        "HACKATHON_ENV": "production",
        "SECRET_KEY": "bench-only-not-secret",
        "HIDDEN_SET_SECRET": "bench-only-hidden",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
        "CELERY_BROKER_URL": broker,
        "VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "PRIVATE_DATA_ROOT": str(var_dir / "private"),
        "SANDBOX_STATE_DIR": str(var_dir / "sandbox"),
        "GRADING_WORK_DIR": str(var_dir / "work"),
        "SANDBOX_BACKEND": backend,
        "SANDBOX_WARM_POOL": str(warm_pool),
        "SUBMISSIONS_PER_DAY": "10",
        "LOG_LEVEL": "WARNING",
    }


# --- The burst ----------------------------------------------------------------------------------------------


def open_event_exercise(count: int, label: str):  # type: ignore[no-untyped-def]
    """Create an event with `count` confirmed participants and breast-cancer open; return it and them."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from exercises.models import Exercise
    from hackathon import services as events
    from hackathon.models import Event, Registration

    now = timezone.now()
    organizer = get_user_model().objects.create_user(username=f"organizer-{label}", email=f"org-{label}@example.org")
    event = events.create_event(
        organizer=organizer,
        title=f"Drain benchmark {label}",
        slug=f"drain-{label}",
        level=Event.Level.BASE,
        mode=Event.Mode.ONLINE,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + dt.timedelta(days=2),
        registration_opens_at=now - dt.timedelta(days=1),
        registration_closes_at=now + dt.timedelta(days=1),
        capacity=count,
        participants_per_tutor=5,
        compute=Event.Compute.CPU,
    )
    exercise = Exercise.objects.get(slug=EXERCISE)
    events.set_event_exercises(
        event=event, exercises=[exercise], opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1)
    )
    details = events.RegistrationDetails(
        affiliation="other", affiliation_other="Bench", career_stage="student", ml_experience="basic"
    )
    participants = []
    for n in range(count):
        user = get_user_model().objects.create_user(username=f"p{n}-{label}", email=f"p{n}-{label}@example.org")
        registration = events.register(event=event, user=user, details=details)
        if registration.status != Registration.Status.CONFIRMED:
            raise BenchmarkFailed(f"participant {n} got {registration.status}, not a confirmed place")
        participants.append(user)
    return event.event_exercises.get(), participants


def start_worker(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    argv = [str(PYTHON), "-m", "celery", "-A", "hackathon.config", "worker", "-Q", "cpu", "--concurrency", "1"]
    argv += ["-n", f"{name}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    # Its own session: stopping it later kills its pool child and sandboxes with it.
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until_ready(workers: list[subprocess.Popen[bytes]], logs: list[Path], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker, log in zip(workers, logs, strict=True):
            if worker.poll() is not None:
                raise BenchmarkFailed(f"a worker exited at start: {log.read_text()[-2000:]}")
        if all(" ready." in log.read_text() for log in logs):
            return
        time.sleep(0.5)
    raise BenchmarkFailed(f"the workers were not ready within {timeout:.0f} s")


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def drain(workers: int, count: int, env: dict[str, str], logs_dir: Path, timeout: float) -> Drain:
    """Submit `count` notebooks at once to `workers` ready workers and wait until each has its one result."""
    from django.db.models import Max, Min

    from exercises.services import ensure_dataset
    from grading.models import Submission
    from grading.services import submit_notebook

    event_exercise, participants = open_event_exercise(count, f"{workers}w")
    # Build the event's hidden set now: it is built once per event, not per submission (grading_latency.py times it).
    ensure_dataset(event_exercise.exercise, event_exercise.secret_seed)
    raw = REFERENCE.read_bytes()
    logs = [logs_dir / f"worker{i}-of-{workers}.log" for i in range(workers)]
    processes = [start_worker(f"bench{i}", env, log) for i, log in enumerate(logs)]
    try:
        wait_until_ready(processes, logs, 120)
        started = time.monotonic()
        for participant in participants:
            submit_notebook(participant=participant, event_exercise=event_exercise, raw=raw, filename="reference.ipynb")
        submit_s = time.monotonic() - started
        burst = Submission.objects.filter(event_exercise=event_exercise)
        deadline = started + timeout
        while burst.exclude(status__in=Submission.FINAL).exists():
            if time.monotonic() > deadline:
                left = burst.exclude(status__in=Submission.FINAL).count()
                raise BenchmarkFailed(f"{left} of {count} submissions were not final after {timeout:.0f} s")
            if any(p.poll() is not None for p in processes):
                raise BenchmarkFailed("a worker died during the burst")
            time.sleep(1)
        span = burst.aggregate(first=Min("queued_at"), last=Max("finished_at"))
    finally:
        stop(processes)
    rows = list(burst.values("status", "attempts", "started_at", "finished_at", "duration_s", "score"))
    statuses: dict[str, int] = {}
    attempts: dict[int, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
        attempts[row["attempts"]] = attempts.get(row["attempts"], 0) + 1
    # Exactly one final state each: one row per submit, every row final, each run claimed once and scored.
    if len(rows) != count or statuses != {Submission.Status.SCORED: count} or attempts != {1: count}:
        raise BenchmarkFailed(f"expected {count} submissions scored at the first attempt: {statuses}, {attempts}")
    if any(row["score"] is None or row["score"] < 0.96 for row in rows):
        raise BenchmarkFailed("a reference submission scored below its target of 0.96")
    return Drain(
        workers=workers,
        submissions=count,
        submit_s=submit_s,
        drain_s=(span["last"] - span["first"]).total_seconds(),
        statuses={str(k): v for k, v in statuses.items()},
        attempts=attempts,
        run_s_median=statistics.median((r["finished_at"] - r["started_at"]).total_seconds() for r in rows),
        sandbox_s_median=statistics.median(r["duration_s"] for r in rows),
    )


def markdown(drains: list[Drain], backend: str, info: dict[str, str]) -> str:
    one = next((d for d in drains if d.workers == 1), None)
    lines = [
        f"Measured by `bench/grading_drain.py` (backend {backend}) on `{info['uname']}`; {info['nproc']} CPUs; "
        f"{info['cpu']}; load average (1 min) {info['load_at_start']} at the start, {info['load']} at the end.",
        "",
        "| workers | submissions | submit calls (s) | drain (s) | per submission (s) | vs one worker | "
        "run per submission, median (s) | sandbox's own, median (s) | outcome |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d in drains:
        ratio = f"{d.drain_s / one.drain_s:.2f}" if one else ""
        lines.append(
            f"| {d.workers} | {d.submissions} | {d.submit_s:.1f} | {d.drain_s:.1f} | {d.drain_s / d.submissions:.2f} | "
            f"{ratio} | {d.run_s_median:.2f} | {d.sandbox_s_median:.2f} | all scored, 1 attempt each |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=60, help="size of the burst (default 60)")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1], help="worker counts to try (default 2 1)")
    parser.add_argument("--backend", default="bwrap", help="sandbox backend of the workers (default bwrap)")
    parser.add_argument("--warm-pool", type=int, default=0, help="SANDBOX_WARM_POOL of each worker (default 0)")
    parser.add_argument("--redis-db", type=int, default=9, help="Redis database number, flushed before and after")
    parser.add_argument("--timeout", type=float, default=1800, help="give up on a burst after this many seconds")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    load_at_start = machine()["load"]
    try:
        recreate_database()
        flush_broker(broker)
    except Exception as error:  # no server, no benchmark: say which is missing
        sys.exit(f"PostgreSQL ({POSTGRES}) and Redis ({broker}) must be reachable: {type(error).__name__}: {error}")
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        var_dir = Path(tmp) / "var"
        env = {**os.environ, **environment(var_dir, broker, args.backend, args.warm_pool)}
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        drains: list[Drain] = []
        try:
            import django

            django.setup()
            from django.core.management import call_command

            from exercises.models import Exercise
            from exercises.services import sync_builtin_exercises

            call_command("migrate", verbosity=0)
            sync_builtin_exercises()
            Exercise.objects.get(slug=EXERCISE)
            for workers in args.workers:
                flush_broker(broker)
                result = drain(workers, args.submissions, env, Path(tmp), args.timeout)
                drains.append(result)
                print(json.dumps(asdict(result)), flush=True)
        finally:
            if "django.db" in sys.modules:
                from django.db import connections

                connections.close_all()
            flush_broker(broker)
            drop_database()
    info = {**machine(), "load_at_start": load_at_start}
    print()
    print(markdown(drains, args.backend, info))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "drains": [asdict(d) for d in drains]}, indent=2))


if __name__ == "__main__":
    main()
