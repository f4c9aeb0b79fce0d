"""Measure what the shared parts (Redis broker, PostgreSQL) carry, and project the platform to many workers.

Workers scale by adding hosts; what they share is one broker and one database. This script measures both on
127.0.0.1 with the traffic a submission puts on them, then combines that with the per-worker throughput that
`bench/grading_drain.py` measured (its --json file) to say what saturates first at a given size:

    .venv/bin/python bench/grading_drain.py --workers 1 2 --json /tmp/drain.json    # ~25 min, see bench/README
    .venv/bin/python bench/scaling.py --drain-json /tmp/drain.json
    .venv/bin/python bench/scaling.py --run-seconds 45                              # without a drain file

Traffic of one submission, from grading/services.py and grading/tasks.py: one task message (published, then
delivered and acknowledged late); on the database one claim (UPDATE ... WHERE status=queued), one heartbeat per
GRADING_HEARTBEAT_SECONDS while it runs, and about STATUS_WRITES more writes (result, score, board rows).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

POSTGRES = "postgres://postgres@127.0.0.1:5432"
DATABASE = "hackathon_bench_scaling"
HEARTBEAT_SECONDS = 15
STATUS_WRITES = 6


@dataclass(frozen=True)
class SharedCapacity:
    """What the broker and the database sustained here, per second."""

    broker_publish_per_s: float
    broker_consume_ack_per_s: float
    db_claims_per_s: float
    db_heartbeats_per_s: float
    db_connections: int


def measure_broker(url: str, messages: int) -> tuple[float, float]:
    """Publish `messages` task-sized messages to a Redis queue, then consume and ack each, as Celery workers do."""
    from kombu import Connection, Exchange, Queue

    name = f"bench-scaling-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
    body = {"task": "grading.tasks.grade_submission_task", "args": [123456], "kwargs": {}, "pad": "x" * 600}
    with Connection(url, transport_options={"visibility_timeout": 7200}) as connection:
        producer = connection.Producer(serializer="json")
        queue(connection.default_channel).declare()  # once, as Celery does; not on every publish
        started = time.perf_counter()
        for _ in range(messages):
            producer.publish(body, exchange=queue.exchange, routing_key=name, retry=False)
        publish_s = time.perf_counter() - started
        received = 0

        def on_message(_body: object, message: object) -> None:
            nonlocal received
            message.ack()  # type: ignore[attr-defined]
            received += 1

        started = time.perf_counter()
        with connection.Consumer(queue, callbacks=[on_message], prefetch_count=1):
            while received < messages:
                connection.drain_events(timeout=10)
        consume_s = time.perf_counter() - started
        queue(connection.channel()).delete()
    return messages / publish_s, messages / consume_s


def measure_database(rows: int, connections: int) -> tuple[float, float]:
    """Claim `rows` queued rows from `connections` threads at once, then write one heartbeat per row."""
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    url = f"{POSTGRES}/{DATABASE}"
    try:
        with psycopg.connect(url, autocommit=True) as setup:
            setup.execute(
                "CREATE TABLE submission (id bigint PRIMARY KEY, status text NOT NULL, worker text,"
                " heartbeat_at timestamptz, attempts int NOT NULL DEFAULT 0)"
            )
            setup.execute(
                "INSERT INTO submission (id, status) SELECT g, 'queued' FROM generate_series(1, %s) g", [rows]
            )
        claimed: list[int] = []

        def work(statement: str, ids: list[int], wins: list[int]) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                for row in ids:
                    if conn.execute(statement, [row]).rowcount == 1:
                        wins.append(row)

        def in_threads(statement: str) -> tuple[float, list[int]]:
            wins: list[int] = []
            # Every thread tries every row, in its own order: the claim must let exactly one win each.
            ids = list(range(1, rows + 1))
            orders = [ids if i % 2 == 0 else ids[::-1] for i in range(connections)]
            threads = [threading.Thread(target=work, args=(statement, order, wins)) for order in orders]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return time.perf_counter() - started, wins

        claim_s, claimed = in_threads(
            "UPDATE submission SET status = 'running', attempts = attempts + 1, heartbeat_at = now()"
            " WHERE id = %s AND status = 'queued'"
        )
        if sorted(claimed) != list(range(1, rows + 1)):
            raise SystemExit(f"claims went wrong: {len(claimed)} wins for {rows} rows")
        beat_s, _ = in_threads("UPDATE submission SET heartbeat_at = now() WHERE id = %s AND status = 'running'")
        attempts = rows * connections  # every statement sent, won or lost, costs the server
        return attempts / claim_s, attempts / beat_s
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def per_worker_throughput(drain_json: Path | None, run_seconds: float) -> tuple[float, float, str]:
    """Return (submissions/s of one worker process, seconds one run holds a slot, where the numbers came from)."""
    if drain_json is None:
        return 1 / run_seconds, run_seconds, f"assumed run of {run_seconds:.0f} s per submission"
    data = json.loads(drain_json.read_text())
    drains = {d["workers"]: d for d in data["drains"]}
    one = drains.get(1) or next(iter(drains.values()))
    run_s = one["run_s_median"]
    per_process = one["submissions"] / one["drain_s"] / one["workers"]
    return (
        per_process,
        run_s,
        f"{drain_json.name}: {one['workers']} worker(s) drained {one['submissions']} in {one['drain_s']:.0f} s",
    )


def projection(capacity: SharedCapacity, run_s: float, slots: int) -> dict[str, float]:
    """Return submissions/s that each shared part and the worker slots can carry at `slots` concurrent jobs."""
    heartbeats_per_s = slots / HEARTBEAT_SECONDS  # each running job beats, whatever the submission rate
    db_write_rate = min(capacity.db_claims_per_s, capacity.db_heartbeats_per_s)
    db_left = max(db_write_rate - heartbeats_per_s, 0.0)
    return {
        "workers (slots / run time)": slots / run_s,
        "broker (publish, then deliver+ack)": min(capacity.broker_publish_per_s, capacity.broker_consume_ack_per_s),
        "database writes (after heartbeats)": db_left / (1 + STATUS_WRITES),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000, help="messages through the broker (default 3000)")
    parser.add_argument("--rows", type=int, default=2000, help="submissions claimed in the database (default 2000)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent database clients (default 8)")
    parser.add_argument("--redis-db", type=int, default=10, help="Redis database used (a queue of its own)")
    parser.add_argument("--drain-json", type=Path, help="results of bench/grading_drain.py --json")
    parser.add_argument("--run-seconds", type=float, default=45.0, help="run time per submission without a drain file")
    parser.add_argument("--slots", type=int, nargs="+", default=[2, 60, 300, 2000], help="concurrent jobs to project")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    try:
        rounds = [measure_broker(broker, args.messages) for _ in range(3)]
        publish = statistics.median(r[0] for r in rounds)
        consume = statistics.median(r[1] for r in rounds)
        db_rounds = [measure_database(args.rows, args.connections) for _ in range(3)]
    except Exception as error:
        sys.exit(f"PostgreSQL ({POSTGRES}) and Redis ({broker}) must be reachable: {type(error).__name__}: {error}")
    capacity = SharedCapacity(
        broker_publish_per_s=publish,
        broker_consume_ack_per_s=consume,
        db_claims_per_s=statistics.median(r[0] for r in db_rounds),
        db_heartbeats_per_s=statistics.median(r[1] for r in db_rounds),
        db_connections=args.connections,
    )
    per_process, run_s, source = per_worker_throughput(args.drain_json, args.run_seconds)
    print(json.dumps(asdict(capacity)))
    print()
    print(f"Shared parts on this machine (medians of 3; {args.connections} database clients):")
    print()
    print("| part | operation | per second |")
    print("|---|---|---|")
    print(f"| Redis | publish a task message | {capacity.broker_publish_per_s:,.0f} |")
    print(
        f"| Redis | deliver and ack, one consumer (prefetch 1, acks late) | {capacity.broker_consume_ack_per_s:,.0f} |"
    )
    print(f"| PostgreSQL | atomic claim (UPDATE ... WHERE status=queued) | {capacity.db_claims_per_s:,.0f} |")
    print(f"| PostgreSQL | heartbeat | {capacity.db_heartbeats_per_s:,.0f} |")
    print()
    print(f"Per worker process: {per_process:.3f} submissions/s, a run holds its slot {run_s:.1f} s ({source}).")
    print()
    print("| concurrent jobs | workers carry (subm./s) | broker carries | database carries | saturates first |")
    print("|---|---|---|---|---|")
    rows = []
    for slots in args.slots:
        limits = projection(capacity, run_s, slots)
        first = min(limits, key=lambda k: limits[k])
        values = list(limits.values())
        print(f"| {slots} | {values[0]:,.2f} | {values[1]:,.0f} | {values[2]:,.0f} | {first} |")
        rows.append({"slots": slots, **limits, "first": first})
    if args.json:
        payload = {"capacity": asdict(capacity), "per_process": per_process, "run_s": run_s, "projection": rows}
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
