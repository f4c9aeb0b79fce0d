"""Time a submission from upload to score through a default `make run` worker, beside the plain script.

The platform runs as `make run` starts it (runserver, one Celery worker on the embedded broker, bwrap, the
default warm pool) in a throwaway VAR_DIR. Each round runs the exercise's reference notebook as a plain
python script, then uploads it over the API with a personal token and polls the submission's status every
0.05 s until it is final. `--cold` sets SANDBOX_WARM_POOL=0 for the worker, for the cold row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from deadline_rush import _free_port, _wait_http, upload
from grading_latency import PYTHON, ROOT, BenchmarkFailed, machine, plain_script, run_plain, timed

SETUP = """
import datetime as dt, json, os
from django.utils import timezone
from exercises.models import Exercise
from exercises.services import default_secret_seed, ensure_dataset, sync_builtin_exercises
from grading.api_auth import create_token
from hackathon.models import Event, EventExercise, Registration
from django.contrib.auth import get_user_model
sync_builtin_exercises()
exercise = Exercise.objects.get(slug=os.environ["BENCH_EXERCISE"])
now = timezone.now()
event = Event.objects.create(title="Bench", slug="bench", starts_on=now.date(),
                             ends_on=now.date() + dt.timedelta(days=1), published=True, capacity=10,
                             registration_opens_at=now - dt.timedelta(days=1), registration_closes_at=now,
                             level="base", mode="online", compute="cpu", participants_per_tutor=5)
EventExercise.objects.create(event=event, exercise=exercise, opens_at=now - dt.timedelta(hours=1),
                             closes_at=now + dt.timedelta(days=1), submissions_per_day=1000)
person = get_user_model().objects.create_user(username="bench", email="bench@example.org", password="x")
Registration.objects.create(event=event, user=person, status=Registration.Status.CONFIRMED)
seed = EventExercise.objects.get(event=event).secret_seed
print(json.dumps({"token": create_token(user=person, name="bench").secret,
                  "hidden": str(ensure_dataset(exercise, seed).hidden_data)}))
"""


def submit_and_wait(base: str, token: str, exercise: str, notebook: bytes) -> dict:
    started = time.monotonic()
    status, _, uid = upload(base, token, "bench", exercise, notebook)
    if status != 201:
        raise BenchmarkFailed(f"the upload answered {status}: {uid}")
    status_url, headers = f"{base}/api/v1/submissions/{uid}/", {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(status_url, headers=headers)  # noqa: S310 - our own loopback server
    while time.monotonic() - started < 900:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own loopback server
            answer = json.loads(response.read())
        if answer["is_final"]:
            if answer["status"] != "scored":
                raise BenchmarkFailed(f"the submission ended {answer['status']}: {answer['message']}")
            return {"seconds": time.monotonic() - started, "score": answer["score"], "sandbox_s": answer["duration_s"]}
        time.sleep(0.05)
    raise BenchmarkFailed("no score within 900 s")


def warm_sandboxes() -> int:
    """Count the warm sandboxes waiting for a job on this machine (their runner was started with --warm)."""
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return sum(
        1 for line in listing.splitlines() if "sandbox.runner" in line and "--warm" in line and "bwrap" not in line
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--exercise", default="breast-cancer")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="run the worker with SANDBOX_WARM_POOL=0")
    parser.add_argument("--refill", type=float, default=20.0, help="seconds between rounds for the pool to refill")
    parser.add_argument("--port", type=int, default=0, help="the site's port (default: any free one)")
    args = parser.parse_args()
    reference = ROOT / "exercises" / "bundles" / args.exercise / "source.ipynb"
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "VAR_DIR": str(work / "var"), "HACKATHON_ENV": "development", "SANDBOX_BACKEND": "bwrap",
               "LOG_LEVEL": "WARNING"}  # fmt: skip
        for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "MEDIA_ROOT", "PRIVATE_DATA_ROOT"):
            env.pop(name, None)
        env.pop("SANDBOX_WARM_POOL", None)
        if args.cold:
            env["SANDBOX_WARM_POOL"] = "0"
        subprocess.run([str(PYTHON), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        setup = subprocess.run([str(PYTHON), "manage.py", "shell", "-c", SETUP], cwd=ROOT,
                               env={**env, "BENCH_EXERCISE": args.exercise}, check=True, capture_output=True,
                               text=True)  # fmt: skip
        facts = json.loads(setup.stdout.strip().splitlines()[-1])
        script = plain_script(reference, work / "plain", Path(facts["hidden"]))
        output_file = "masks.npy" if args.exercise == "lung-segmentation" else "predictions.csv"
        port = args.port or _free_port()
        base = f"http://127.0.0.1:{port}"
        logs = (work / "worker.log").open("w"), (work / "site.log").open("w")
        worker = subprocess.Popen(
            [str(PYTHON), "-m", "celery", "-A", "hackathon.config", "worker", "--queues", "cpu,gpu",
             "--concurrency", "1", "--loglevel", "INFO"], cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT,
        )  # fmt: skip
        site = subprocess.Popen([str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT,
                                env=env, stdout=logs[1], stderr=subprocess.STDOUT)  # fmt: skip
        notebook = reference.read_bytes()
        timings = []
        try:
            _wait_http(base + "/", 60)
            time.sleep(args.refill)  # the worker warms its sandboxes at start
            for number in range(1, args.rounds + 1):
                for name, action in (
                    ("plain python script", lambda: run_plain(script, output_file)),
                    ("upload to score", lambda: submit_and_wait(base, facts["token"], args.exercise, notebook)),
                ):
                    if name == "upload to score":
                        print(f"round {number}: warm sandboxes waiting: {warm_sandboxes()}", flush=True)
                    timing = timed(name, action)
                    timings.append(timing)
                    print(f"round {number}: {name}: {timing.seconds:.2f} s {timing.detail}", flush=True)
                time.sleep(args.refill)
        finally:
            for process in (site, worker):
                process.terminate()
                process.wait(30)
        plain = statistics.median(t.seconds for t in timings if t.variant == "plain python script")
        served = [t.seconds for t in timings if t.variant != "plain python script"]
        info = machine()
        command = f"bench/upload_to_score.py --exercise {args.exercise} --rounds {args.rounds}"
        command += " --cold" if args.cold else ""
        print(f"\n`{command}` on {info['nproc']} CPUs ({info['cpu']}), load {info['load']}:")
        median = statistics.median(served)
        print(
            f"plain script median {plain:.2f} s; upload to score median {median:.2f} s "
            f"(min {min(served):.2f}, max {max(served):.2f}), {median / plain:.2f}x the plain script"
        )


if __name__ == "__main__":
    sys.exit(main())
