"""Measure `grade` on an exercise's reference notebook against a plain python script and nbgrader autograde.

`--exercise` picks the exercise (breast-cancer by default; lung-segmentation and microcalcifications are the
Keras ones, whose cold start pays TensorFlow's import). Every variant runs side by side in each round.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():
    PYTHON = Path(sys.executable)
EXERCISE = "breast-cancer"  # replaced by --exercise in main()
REFERENCE = ROOT / "exercises" / "bundles" / EXERCISE / "source.ipynb"
TF_IMPORT = [str(PYTHON), "-c", "import tensorflow, keras"]
OUTPUT_FILES = {"scores_csv": "predictions.csv", "masks_npy": "masks.npy"}
# The modules the reference notebook imports, for the import share of the breakdown.
NOTEBOOK_IMPORTS = (
    "import numpy, pandas, sklearn.linear_model, sklearn.model_selection, sklearn.pipeline, sklearn.preprocessing"
)


@dataclass(frozen=True)
class Timing:
    """One timed run of one variant: wall seconds, and what the run itself reported."""

    variant: str
    seconds: float
    detail: dict[str, Any]


class BenchmarkFailed(Exception):
    """A variant did not do its job (no score, no predictions): its time would mean nothing."""


def machine() -> dict[str, str]:
    """Describe the machine the way docs/benchmarks.md records it."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())

    def run(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()

    load = Path("/proc/loadavg").read_text().split()[0]  # other work on a shared machine shows here
    return {"uname": run("uname", "-a"), "nproc": run("nproc"), "cpu": cpu, "free": run("free", "-h"), "load": load}


def timed(variant: str, action: Callable[[], dict[str, Any]]) -> Timing:
    """Time the action; one that reports its own "seconds" leaves its preparation out of the count."""
    started = time.monotonic()
    detail = action()
    seconds = detail.pop("seconds", time.monotonic() - started)
    return Timing(variant, seconds, detail)


def run_checked(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode not in ok:
        raise BenchmarkFailed(f"{' '.join(argv[:4])}... exited {done.returncode}: {done.stderr[-1500:]}")
    return done.stdout


# --- The environment: a throwaway VAR_DIR, so the benchmark never touches var/ -----------------------------


def prepare_django(var_dir: Path) -> None:
    """Point the site at a fresh VAR_DIR (inherited by every child process), migrate it and set Django up."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "hackathon.config.settings",
            "HACKATHON_ENV": "development",
            "VAR_DIR": str(var_dir),
            "SANDBOX_WARM_POOL": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "PRIVATE_DATA_ROOT", "SANDBOX_BACKEND"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- The variants -------------------------------------------------------------------------------------------


def plain_script(notebook: Path, folder: Path, data: Path) -> Path:
    """Write the notebook's code cells as one .py next to a copy of the hidden data/ and an output/ folder."""
    nb = nbformat.read(str(notebook), as_version=4)
    code = "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    folder.mkdir(parents=True)
    shutil.copytree(data, folder / "data")
    (folder / "output").mkdir()
    script = folder / "reference.py"
    script.write_text(code + "\n")
    return script


def run_plain(script: Path, output_file: str, cpus: int | None = None) -> dict[str, Any]:
    """Run the plain script on the whole machine, or pinned to `cpus` cores with as many threads as a job gets."""
    predictions = script.parent / "output" / output_file
    predictions.unlink(missing_ok=True)
    argv, env = [str(PYTHON), script.name], None
    if cpus is not None:
        argv = ["taskset", "-c", f"0-{cpus - 1}", *argv]
        threads = str(cpus)  # what sandbox.backends.base.job_env tells a job's BLAS, OpenMP and TensorFlow
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        env |= {"MKL_NUM_THREADS": threads, "TF_NUM_INTRAOP_THREADS": threads}
    run_checked(argv, cwd=script.parent, env=env)
    if not predictions.is_file():
        raise BenchmarkFailed(f"the plain script wrote no output/{output_file}")
    return {}


def nbgrader_course(notebook: Path, course: Path, data: Path) -> dict[str, str]:
    """Make a one-assignment nbgrader course holding one student's submission of the notebook and data/."""
    (course / "source" / EXERCISE).mkdir(parents=True)
    shutil.copyfile(notebook, course / "source" / EXERCISE / f"{EXERCISE}.ipynb")
    (course / "nbgrader_config.py").write_text(
        f'c = get_config()\nc.CourseDirectory.course_id = "bench"\nc.CourseDirectory.root = "{course}"\n'
    )
    # nbgrader runs the `alembic` command to make its gradebook: the venv's bin/ must be on PATH.
    env = {**os.environ, "PATH": f"{PYTHON.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    run_checked([str(PYTHON.parent / "nbgrader"), "generate_assignment", EXERCISE, "--force"], cwd=course, env=env)
    submitted = course / "submitted" / "student1" / EXERCISE
    submitted.mkdir(parents=True)
    shutil.copyfile(notebook, submitted / f"{EXERCISE}.ipynb")
    shutil.copytree(data, submitted / "data")
    return env


def run_nbgrader(course: Path, env: dict[str, str], output_file: str) -> dict[str, Any]:
    shutil.rmtree(course / "autograded", ignore_errors=True)
    argv = [str(PYTHON.parent / "nbgrader"), "autograde", EXERCISE, "--create", "--force"]
    run_checked(argv, cwd=course, env=env)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(EXERCISE, "student1")
        score, max_score = submission.score, submission.max_score
    if not (course / "autograded" / "student1" / EXERCISE / "output" / output_file).is_file() or score != max_score:
        raise BenchmarkFailed(f"nbgrader autograde gave {score}/{max_score} or wrote no predictions")
    return {"points": f"{score:g}/{max_score:g}"}


def run_grade_command(backend: str) -> dict[str, Any]:
    argv = [str(PYTHON), "manage.py", "grade", EXERCISE, str(REFERENCE), "--backend", backend, "--json"]
    report = json.loads(run_checked(argv, cwd=ROOT))
    if report["status"] != "scored":
        raise BenchmarkFailed(f"grade --backend {backend} gave {report['status']}: {report['message']}")
    return {"sandbox_s": report["duration_s"], "score": report["score"]}


def run_grade_in_worker(exercise: Any, backend: str, warm: bool) -> dict[str, Any]:
    """Call the `grade` command's service in this long-lived process, as a worker would, cold or warm."""
    from django.conf import settings

    from grading.sandboxing import job_limits, runtime_of, sandbox_backend
    from grading.services import grade_notebook_file

    settings.SANDBOX_WARM_POOL = 1 if warm else 0
    runtime = runtime_of(exercise, gpu=False)
    taken: set[int] = set()
    if warm:
        pool = sandbox_backend(backend).warm_pool
        pool.prepare(runtime, job_limits(exercise))
        if not pool.wait_ready(runtime, 300):
            raise BenchmarkFailed("the warm pool did not get a sandbox ready within 300 s")
        taken = {id(s) for s in pool.idle}
    started = time.monotonic()
    report = grade_notebook_file(exercise, REFERENCE, backend=backend)
    seconds = time.monotonic() - started
    if warm:
        # The call took the waiting sandbox if it is gone from the pool: proof the run really was warm.
        if taken & {id(s) for s in pool.idle}:
            raise BenchmarkFailed("the warm run did not take the pool's warm sandbox")
        pool.wait_ready(runtime, 300)  # let its replacement warm up now, not during the next variant
    if report["status"] != "scored":
        raise BenchmarkFailed(f"in-process grade gave {report['status']}: {report['message']}")
    return {"sandbox_s": report["duration_s"], "score": report["score"], "seconds": seconds}


# --- The breakdown: where the time goes ---------------------------------------------------------------------


def import_tensorflow() -> dict[str, Any]:
    """Import TensorFlow and Keras in a fresh interpreter: what a warm Keras sandbox has done before its job."""
    run_checked(TF_IMPORT, cwd=ROOT)
    return {}


def seconds_of(argv: list[str], ok: tuple[int, ...] = (0,)) -> float:
    started = time.monotonic()
    run_checked(argv, cwd=ROOT, ok=ok)
    return time.monotonic() - started


def breakdown(exercise: Any, plain_folder: Path, work: Path, repeats: int) -> dict[str, float]:
    """Time the parts of a grading on their own: startup, imports, kernel start, data build, scoring."""
    from django.conf import settings

    import sandbox
    from exercises.evaluation import evaluate
    from exercises.services import bundle_of, default_secret_seed, ensure_dataset
    from grading.sandboxing import job_limits, sandbox_backend, sandbox_config

    empty = work / "empty.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("pass")]
    nbformat.write(nb, str(empty))
    dataset = ensure_dataset(exercise, default_secret_seed(EXERCISE))
    parts: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        parts.setdefault(name, []).append(seconds)

    for i in range(repeats):
        add("python start (`python -c pass`)", seconds_of([str(PYTHON), "-c", "pass"]))
        add("the notebook's imports in plain python", seconds_of([str(PYTHON), "-c", NOTEBOOK_IMPORTS]))
        # A missing notebook file stops the command right after Django and grading are set up.
        argv = [str(PYTHON), "manage.py", "grade", EXERCISE, str(work / "missing.ipynb")]
        add("`manage.py grade` start (Django, imports)", seconds_of(argv, ok=(1,)))
        for warm in (False, True):
            settings.SANDBOX_WARM_POOL = 1 if warm else 0
            backend = sandbox_backend("bwrap")
            limits = job_limits(exercise)
            if warm:
                backend.warm_pool.prepare("cpu", limits)
                if not backend.warm_pool.wait_ready("cpu", 300):
                    continue
            job = sandbox.Job(output_dir=work / f"empty-out-{i}-{warm}", notebook=empty, limits=limits)
            result = sandbox.run_job(job, sandbox_config(), backend)
            add(f"one-cell notebook in bwrap, {'warm' if warm else 'cold'} (sandbox + kernel start)", result.duration_s)
            if warm:
                backend.warm_pool.wait_ready("cpu", 300)
        started = time.monotonic()
        ensure_dataset(exercise, 1000 + i)  # a seed never built before: the full build
        add("hidden set build (once per exercise and seed)", time.monotonic() - started)
        started = time.monotonic()
        evaluate(
            bundle_of(exercise),
            plain_folder / "output",
            dataset.hidden_answers,
            run_job=lambda job: sandbox.run_job(job, sandbox_config()),
            work_dir=work / "evaluation",
        )
        add("scoring the predictions (trusted worker)", time.monotonic() - started)
    settings.SANDBOX_WARM_POOL = 0
    return {name: statistics.median(values) for name, values in parts.items()}


# --- Running and reporting ----------------------------------------------------------------------------------


def markdown(timings: list[Timing], parts: dict[str, float], rounds: int, info: dict[str, str]) -> str:
    by_variant: dict[str, list[Timing]] = {}
    for timing in timings:
        by_variant.setdefault(timing.variant, []).append(timing)
    median = {name: statistics.median(t.seconds for t in runs) for name, runs in by_variant.items()}
    plain, nbgrader = median["plain python script"], median.get("nbgrader autograde")  # absent with --warm-only
    lines = [
        f"Measured by `bench/grading_latency.py --exercise {EXERCISE} --rounds {rounds}` on `{info['uname']}`; "
        f"{info['nproc']} CPUs; "
        f"{info['cpu']}; load average (1 min) {info['load_at_start']} at the start, {info['load']} at the end.",
        "",
        "| variant | median (s) | min (s) | max (s) | / plain | / nbgrader | sandbox's own time, median (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in by_variant.items():
        seconds = [t.seconds for t in runs]
        inside = [t.detail["sandbox_s"] for t in runs if "sandbox_s" in t.detail]
        inside_text = f"{statistics.median(inside):.2f}" if inside else ""
        lines.append(
            f"| {name} | {median[name]:.2f} | {min(seconds):.2f} | {max(seconds):.2f} | "
            f"{median[name] / plain:.2f} | {f'{median[name] / nbgrader:.2f}' if nbgrader else ''} | {inside_text} |"
        )
    if parts:
        lines += ["", "| part, measured on its own | median (s) |", "|---|---|"]
        lines += [f"| {name} | {seconds:.2f} |" for name, seconds in parts.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every variant, interleaved (default 5)")
    parser.add_argument("--no-warm", action="store_true", help="leave out the warm-pool rows")
    parser.add_argument("--json", type=Path, help="also write every timing to this JSON file")
    parser.add_argument("--exercise", default="breast-cancer", help="the built-in exercise (default breast-cancer)")
    parser.add_argument("--no-breakdown", action="store_true", help="leave out the parts measured on their own")
    parser.add_argument(
        "--warm-only",
        action="store_true",
        help="only the plain script (whole machine and the job's CPU share), the import and the warm worker",
    )
    args = parser.parse_args()
    global EXERCISE, REFERENCE
    EXERCISE = args.exercise
    REFERENCE = ROOT / "exercises" / "bundles" / EXERCISE / "source.ipynb"

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        work = Path(tmp)
        prepare_django(work / "var")
        import sandbox
        from exercises.models import Exercise
        from exercises.services import default_secret_seed, ensure_dataset, sync_builtin_exercises
        from grading.sandboxing import sandbox_config

        sync_builtin_exercises()
        exercise = Exercise.objects.get(slug=EXERCISE)
        hidden = ensure_dataset(exercise, default_secret_seed(EXERCISE)).hidden_data
        script = plain_script(REFERENCE, work / "plain", hidden)
        course_env = nbgrader_course(REFERENCE, work / "course", hidden)
        output_file = OUTPUT_FILES[exercise.output_kind]

        share = max(1, math.ceil(exercise.cpus))
        variants: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("plain python script", lambda: run_plain(script, output_file)),
            (
                f"plain python script, the job's {share} CPU",
                lambda: run_plain(script, output_file, cpus=share),
            ),
            ("nbgrader autograde", lambda: run_nbgrader(work / "course", course_env, output_file)),
        ]
        backends = [
            b for b in ("docker", "bwrap") if sandbox.get_backend(b, sandbox_config()).unavailable_reason() is None
        ]
        for backend in backends:
            variants.append((f"`manage.py grade`, {backend}, cold", lambda b=backend: run_grade_command(b)))
        if "bwrap" in backends:
            variants.append(
                ("grade in a worker process, bwrap, cold", lambda: run_grade_in_worker(exercise, "bwrap", False))
            )
            if not args.no_warm:
                variants.append(
                    (
                        "grade in a worker process, bwrap, warm pool",
                        lambda: run_grade_in_worker(exercise, "bwrap", True),
                    )
                )

        from grading.sandboxing import runtime_of

        if runtime_of(exercise, gpu=False) == "keras":
            # The Keras target is the plain script minus this import, which a warm sandbox has done already.
            variants.insert(1, ("`import tensorflow` alone", import_tensorflow))
        if args.warm_only:
            kept = ("plain python script", "`import tensorflow`", "grade in a worker process, bwrap, warm")
            variants = [(name, action) for name, action in variants if name.startswith(kept)]
        load_at_start = machine()["load"]
        timings: list[Timing] = []
        for round_number in range(1, args.rounds + 1):
            for name, action in variants:  # interleaved: a burst of noise hits every variant alike
                timing = timed(name, action)
                timings.append(timing)
                print(f"round {round_number}: {name}: {timing.seconds:.2f} s {timing.detail}", flush=True)
        parts = {} if args.no_breakdown else breakdown(exercise, work / "plain", work, repeats=3)
        info = {**machine(), "load_at_start": load_at_start}
        print()
        print(markdown(timings, parts, args.rounds, info))
        if args.json:
            args.json.write_text(
                json.dumps({"machine": info, "timings": [t.__dict__ for t in timings], "parts": parts}, indent=2)
            )
        from sandbox import warm

        for pool in list(warm.POOLS.values()):
            pool.close()


if __name__ == "__main__":
    main()
