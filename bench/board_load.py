"""Load the public board page and its JSON under 50 concurrent clients on gunicorn and PostgreSQL; record p50/p95.

Seeds a throwaway database (60 participants x 20 submissions x 4 exercises), serves it with the production
settings, and drives it from loopback only, for a bounded time. The database and files are removed at the end.

    .venv/bin/python bench/board_load.py [--write-docs] [--seconds 20] [--workers 3] [--think 0.5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "hackathon_bench"
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13")  # shared by the gunicorn workers
PARTICIPANTS, SUBMISSIONS, EXERCISES, CLIENTS = 60, 20, 4, 50
TARGET_P95_MS = 100.0
SECTION = "## Leaderboard under load"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {DB_NAME}")


def production_env(var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HACKATHON_ENV": "production",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "HIDDEN_SET_SECRET": "bench-only-hidden-set-secret",
        "DATABASE_URL": f"{PG_SERVER}/{DB_NAME}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "CACHE_URL": CACHE_URL,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "hackathon.config.settings",
    }


def seed() -> tuple[str, list[str], list[str]]:
    """Create the event, exercises and scored submissions; return the event slug, exercise slugs, session keys."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.utils import timezone

    from exercises.models import Exercise
    from grading.models import Submission
    from hackathon.models import Event, EventExercise, Group, Registration

    rng = random.Random(7)
    now = timezone.now()
    event = Event.objects.create(
        title="Bench hackathon",
        slug="bench",
        level="base",
        mode="online",
        starts_on=now.date() - dt.timedelta(days=1),
        ends_on=now.date() + dt.timedelta(days=1),
        registration_opens_at=now - dt.timedelta(days=30),
        registration_closes_at=now - dt.timedelta(days=2),
        capacity=PARTICIPANTS,
        participants_per_tutor=5,
        compute="cpu",
    )
    event_exercises = []
    for i in range(EXERCISES):
        exercise = Exercise.objects.create(
            slug=f"bench-{i}",
            title=f"Bench exercise {i}",
            summary="Benchmark.",
            description="Benchmark.",
            levels=["base"],
            metric="roc_auc",
            direction="higher",
            output_kind="scores_csv",
            device="cpu",
            wall_seconds=60,
            memory_mb=512,
            processes=8,
            cpus=1.0,
            target_reference=0.9,
            target_baseline=0.5,
            bundle_path="/nonexistent",
        )
        event_exercises.append(
            EventExercise.objects.create(
                event=event,
                exercise=exercise,
                opens_at=now - dt.timedelta(days=1),
                closes_at=now + dt.timedelta(days=1),
            )
        )
    groups = [
        Group.objects.create(event=event, event_exercise=event_exercises[g % EXERCISES], number=g + 1)
        for g in range(12)
    ]
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(username=f"bench{i}", email=f"bench{i}@example.org", first_name="Person", last_name=str(i))
            for i in range(PARTICIPANTS)
        ]
    )
    Registration.objects.bulk_create(
        [Registration(event=event, user=u, status="confirmed", group=groups[i % 12]) for i, u in enumerate(users)]
    )
    submissions = []
    for ee in event_exercises:
        for u in users:
            skill = rng.uniform(0.6, 0.9)
            for k in range(SUBMISSIONS):
                finished = now - dt.timedelta(hours=20) + dt.timedelta(minutes=rng.uniform(0, 1200))
                score = min(0.999, skill + rng.gauss(0, 0.03))
                submissions.append(
                    Submission(
                        event_exercise=ee,
                        participant=u,
                        notebook=f"submissions/bench/{ee.pk}-{u.pk}-{k}.ipynb",
                        status="scored",
                        score=score,
                        private_score=min(0.999, score + rng.gauss(0, 0.01)),
                        queued_at=finished,
                        finished_at=finished,
                    )
                )
    Submission.objects.bulk_create(submissions, batch_size=1000)
    with connection.cursor() as cursor:  # auto_now_add stamped them all now; spread them over the day as real ones
        cursor.execute("UPDATE grading_submission SET created_at = finished_at - interval '40 seconds'")
        cursor.execute("ANALYZE")
    sessions = []
    for u in users[:CLIENTS]:
        store = SessionStore()
        store[SESSION_KEY] = str(u.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = u.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    return event.slug, [ee.exercise.slug for ee in event_exercises], sessions


def cpu_per_request(paths: list[str], session_key: str, rounds: int = 25) -> dict[str, float]:
    """Return the median CPU ms this process spends per request, cached and uncached: a number load cannot skew."""
    from django.core.cache import cache
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = session_key
    timings: dict[str, list[float]] = {}
    for _ in range(rounds):
        for path in paths:
            kind = "json" if path.endswith(".json") else "page"
            for cached in (False, True):
                if not cached:
                    cache.clear()
                start = time.process_time()
                response = client.get(path, secure=True)
                assert response.status_code == 200, response.status_code
                timings.setdefault(f"{kind} {'cached' if cached else 'computed'}", []).append(
                    (time.process_time() - start) * 1000
                )
    return {key: statistics.median(values) for key, values in timings.items()}


def tree_cpu_seconds(root_pid: int) -> float:
    """Return the CPU seconds (user + system) used so far by a process and its children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, grown = {root_pid}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(used.get(pid, 0.0) for pid in tree)


def run_load(
    port: int, paths: list[str], sessions: list[str], seconds: float, think: float, server_pid: int
) -> dict[str, object]:
    """Run CLIENTS threads, each requesting a random path, pausing `think` s between requests, for `seconds`."""
    latencies: dict[str, list[float]] = {"page": [], "json": []}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(session_key: str, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            path = rng.choice(paths)
            kind = "json" if path.endswith(".json") else "page"
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path, headers={"Cookie": f"sessionid={session_key}", "Host": "127.0.0.1"})
                response = conn.getresponse()
                body = response.read()
                conn.close()
                ok = response.status == 200 and (b"Person" in body)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    if ok:
                        latencies[kind].append(elapsed)
                    else:
                        errors.append(f"{response.status} {path}")
            except OSError as error:
                with lock:
                    errors.append(f"{type(error).__name__} {path}")
            if think:
                time.sleep(rng.uniform(0, 2 * think))

    threads = [threading.Thread(target=client, args=(s, i)) for i, s in enumerate(sessions)]
    site_cpu, client_cpu = tree_cpu_seconds(server_pid), time.process_time()
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 30)
    wall = time.monotonic() - started
    site_cpu, client_cpu = tree_cpu_seconds(server_pid) - site_cpu, time.process_time() - client_cpu
    everything = latencies["page"] + latencies["json"]

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")

    return {
        "requests": len(everything) + len(errors),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "rps": len(everything) / wall,
        **{f"{kind}_p50": pct(values, 50) for kind, values in latencies.items()},
        **{f"{kind}_p95": pct(values, 95) for kind, values in latencies.items()},
        "p50": pct(everything, 50),
        "p95": pct(everything, 95),
        # CPU per request under load: gunicorn's processes, and this load generator's threads.
        "site_cpu_ms": 1000 * site_cpu / max(1, len(everything)),
        "client_cpu_ms": 1000 * client_cpu / max(1, len(everything)),
    }


def warm_up(port: int, path: str, session_key: str, workers: int, limit: float = 120) -> None:
    """Send rounds of concurrent requests until every worker answers fast: a worker's first request imports the site."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        timings: list[float] = []

        def one(timings: list[float] = timings) -> None:
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=90)
            conn.request("GET", path, headers={"Cookie": f"sessionid={session_key}"})
            conn.getresponse().read()
            conn.close()
            timings.append(time.perf_counter() - start)

        threads = [threading.Thread(target=one) for _ in range(workers * 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=100)
        if timings and max(timings) < 1.0:
            return
    raise RuntimeError("the workers did not warm up in time")


def wait_for(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before serving")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start in time")


def write_docs(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text()
    if SECTION in current:
        start = current.index(SECTION)
        following = current.find("\n## ", start + len(SECTION))
        current = current[:start].rstrip("\n") + "\n\n" + (current[following + 1 :] if following != -1 else "")
    path.write_text(current.rstrip("\n") + "\n\n" + text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--think", type=float, nargs="*", default=[0.5, 0.0])
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="board-bench-"))
    env = production_env(var_dir)
    os.environ.update(env)
    recreate_database()
    redis.Redis.from_url(CACHE_URL).flushdb()
    server = None
    try:
        python = str(ROOT / ".venv" / "bin" / "python")
        subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        slug, exercises, sessions = seed()
        paths = [f"/events/{slug}/exercises/{e}/board/" for e in exercises]
        paths += [f"/events/{slug}/exercises/{e}/board.json" for e in exercises]
        cpu = cpu_per_request(paths, sessions[0])
        port = free_port()
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "hackathon.config.wsgi:application"]
            + ["--bind", f"127.0.0.1:{port}"]
            + ["--workers", str(args.workers), "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT,
            env=env,
        )
        wait_for(port, server)
        warm_up(port, paths[0], sessions[0], args.workers)
        load_before = os.getloadavg()[0]
        results = {(1, 0.0): run_load(port, paths, sessions[:1], min(args.seconds, 10), 0.0, server.pid)}
        for think in args.think:
            results[(CLIENTS, think)] = run_load(port, paths, sessions, args.seconds, think, server.pid)
        load_after = os.getloadavg()[0]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        recreate_database(drop_only=True)
        redis.Redis.from_url(CACHE_URL).flushdb()
        shutil.rmtree(var_dir, ignore_errors=True)

    processor = platform.processor() or platform.machine()
    lines = [
        SECTION,
        "",
        f"Measured by `bench/board_load.py` on {platform.system()} {platform.release()}; "
        f"{os.cpu_count()} CPUs ({processor}).",
        f"Production settings, gunicorn with {args.workers} sync workers, PostgreSQL on the same machine, the load "
        f"generator too (loopback). Data: {PARTICIPANTS} participants x {SUBMISSIONS} submissions x {EXERCISES} "
        f"exercises. Up to {CLIENTS} concurrent signed-in participants (one alone first, for the latency without a "
        "queue), each requesting a random exercise's public board "
        f"page or its JSON, {args.seconds:.0f} s per run. A computed board is kept for BOARD_CACHE_SECONDS (3 s) in "
        "Redis (CACHE_URL), shared by the gunicorn workers; its rows are rendered once per computation. "
        f"Load average when the runs began and ended: {load_before:.1f} and {load_after:.1f}.",
        "",
        "| clients | pause between requests (mean) | requests | req/s | errors | page p50 / p95 (ms) "
        "| JSON p50 / p95 (ms) | all p50 / p95 (ms) | site CPU per request (ms) | load generator CPU per request (ms) "
        "| p95 < 100 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (clients, think), r in results.items():
        lines.append(
            f"| {clients} | {think:.1f} s | {r['requests']} | {r['rps']:.0f} | {r['errors']} | "
            f"{r['page_p50']:.1f} / {r['page_p95']:.1f} | {r['json_p50']:.1f} / {r['json_p95']:.1f} | "
            f"{r['p50']:.1f} / {r['p95']:.1f} | {r['site_cpu_ms']:.1f} | {r['client_cpu_ms']:.1f} | "
            f"{'yes' if r['p95'] < TARGET_P95_MS and not r['errors'] else 'no'} |"
        )
    lines += [
        "",
        "CPU time the site spends per request, measured in one process (median; PostgreSQL's own time not counted), "
        "which contention on a shared machine does not skew:",
        "",
        "| request | CPU ms |",
        "|---|---|",
        *(f"| {key} | {value:.1f} |" for key, value in sorted(cpu.items())),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    for (clients, think), r in results.items():
        if r["error_kinds"]:
            print(f"errors with {clients} clients, pause {think}: {r['error_kinds']}")
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
