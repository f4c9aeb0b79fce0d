"""Measure how long twenty participants wait for their one run when one other participant has twenty queued.

Two real Celery workers on PostgreSQL and Redis (the production profile, as `grading_drain.py`) grade a burst
in each of two scenarios, side by side in one run:

- **alone**: twenty participants submit one notebook each;
- **skewed**: one participant submits twenty, then twenty others submit one each.

The wait of a submission runs from its `queued_at` to its `started_at` (the worker's claim). The target
(issue 22): the median wait of the twenty in the skewed burst is at most 1.2x their median wait alone. The
notebook is a quick one (breast-cancer, a constant score per case) so that the queue, not the model, is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grading_drain as drain_bench  # noqa: E402 - the throwaway database, workers and event of the drain benchmark

ROOT = drain_bench.ROOT
drain_bench.DATABASE = "hackathon_fair_bench"
QUICK = """
import csv
with open("data/test.csv") as f:
    ids = [row["id"] for row in csv.DictReader(f)]
with open("output/predictions.csv", "w") as f:
    f.write("id,score\\n" + "".join(f"{i},0.5\\n" for i in ids))
"""


@dataclass(frozen=True)
class Burst:
    """One scenario: the waits of the twenty light participants, and of the heavy one's runs."""

    scenario: str
    light_waits_s: list[float]
    heavy_waits_s: list[float]
    drain_s: float

    @property
    def light_median_s(self) -> float:
        return statistics.median(self.light_waits_s)


def notebook() -> bytes:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(QUICK)]
    return nbformat.writes(nb).encode()


def burst(scenario: str, light: int, heavy: int, env: dict[str, str], logs_dir: Path, workers: int) -> Burst:
    """Submit the scenario's notebooks to `workers` ready workers and wait until each is scored once."""
    from grading.models import Submission
    from grading.services import submit_notebook

    event_exercise, participants = drain_bench.open_event_exercise(light + 1, scenario)
    from exercises.services import ensure_dataset

    ensure_dataset(event_exercise.exercise, event_exercise.secret_seed)
    raw = notebook()
    logs = [logs_dir / f"{scenario}-worker{i}.log" for i in range(workers)]
    processes = [drain_bench.start_worker(f"{scenario}{i}", env, log) for i, log in enumerate(logs)]
    heavy_one, lights = participants[0], participants[1:]
    try:
        drain_bench.wait_until_ready(processes, logs, 120)
        started = time.monotonic()
        heavy_ids = [
            submit_notebook(participant=heavy_one, event_exercise=event_exercise, raw=raw).pk for _ in range(heavy)
        ]
        light_ids = [submit_notebook(participant=p, event_exercise=event_exercise, raw=raw).pk for p in lights]
        rows = Submission.objects.filter(event_exercise=event_exercise)
        while rows.exclude(status__in=Submission.FINAL).exists():
            if time.monotonic() - started > 1200:
                raise drain_bench.BenchmarkFailed(f"the {scenario} burst did not drain in 20 minutes")
            time.sleep(0.5)
        drain_s = time.monotonic() - started
    finally:
        drain_bench.stop(processes)
    found = {r["id"]: r for r in rows.values("id", "status", "attempts", "queued_at", "started_at")}
    if any(r["status"] != Submission.Status.SCORED or r["attempts"] != 1 for r in found.values()):
        raise drain_bench.BenchmarkFailed(f"not every submission was scored at its first attempt: {found}")

    def waits(ids: list[int]) -> list[float]:
        return [(found[i]["started_at"] - found[i]["queued_at"]).total_seconds() for i in ids]

    return Burst(scenario, waits(light_ids), waits(heavy_ids), drain_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--light", type=int, default=20, help="participants with one submission each (default 20)")
    parser.add_argument("--heavy", type=int, default=20, help="submissions of the heavy participant (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers, concurrency 1 each (default 2)")
    parser.add_argument("--redis-db", type=int, default=5, help="Redis database number, flushed before and after")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    load_at_start = drain_bench.machine()["load"]
    try:
        drain_bench.recreate_database()
        drain_bench.flush_broker(broker)
    except Exception as error:
        sys.exit(f"PostgreSQL and Redis ({broker}) must be reachable: {type(error).__name__}: {error}")
    results: list[Burst] = []
    with tempfile.TemporaryDirectory(prefix="bench-skew-") as tmp:
        env = {**os.environ, **drain_bench.environment(Path(tmp) / "var", broker, "bwrap", 0)}
        env["SUBMISSIONS_PER_DAY"] = str(max(10, args.heavy))
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        try:
            import django

            django.setup()
            from django.core.management import call_command

            from exercises.services import sync_builtin_exercises

            call_command("migrate", verbosity=0)
            sync_builtin_exercises()
            for scenario, heavy in (("alone", 0), ("skewed", args.heavy)):
                drain_bench.flush_broker(broker)
                result = burst(scenario, args.light, heavy, env, Path(tmp), args.workers)
                results.append(result)
                print(json.dumps({**asdict(result), "light_median_s": result.light_median_s}), flush=True)
        finally:
            if "django.db" in sys.modules:
                from django.db import connections

                connections.close_all()
            drain_bench.flush_broker(broker)
            drain_bench.drop_database()
    info = {**drain_bench.machine(), "load_at_start": load_at_start}
    alone, skewed = results
    ratio = skewed.light_median_s / alone.light_median_s
    print(
        f"\nMeasured on `{info['uname']}`; {info['nproc']} CPUs; {info['cpu']}; load average (1 min) "
        f"{info['load_at_start']} at the start, {info['load']} at the end.\n\n"
        "| scenario | median wait of the twenty (s) | their longest wait (s) | heavy's median wait (s) | drain (s) |\n"
        "|---|---|---|---|---|\n"
        + "".join(
            f"| {b.scenario} | {b.light_median_s:.2f} | {max(b.light_waits_s):.2f} | "
            f"{statistics.median(b.heavy_waits_s) if b.heavy_waits_s else 0:.2f} | {b.drain_s:.1f} |\n"
            for b in results
        )
        + f"\nSkewed against alone: {ratio:.2f}x (target at most 1.2x)."
    )
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "bursts": [asdict(b) for b in results]}, indent=2))


if __name__ == "__main__":
    main()
