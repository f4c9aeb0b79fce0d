"""Builders of exercise bundles' data and runs: data once per seed, a notebook run as grading would, its scores."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from exercises.bundles import build_data, builtin_bundle
from exercises.evaluation import Scores, evaluate
from sandbox.backends import get_backend
from sandbox.jobs import Job, Result, SandboxConfig

Built = tuple[Path, Path]


def build_bundle(slug: str, root: Path, seed: int) -> Built:
    """Build the built-in exercise's data for a secret seed; return (public, hidden) folders."""
    public, hidden = root / "public", root / "hidden"
    build_data(builtin_bundle(slug), public, hidden, seed)
    return public, hidden


def seed_cache(slug: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Built]:
    """Build each secret seed once: a build takes seconds, and most tests only read it."""
    cache: dict[int, Built] = {}

    def get(seed: int) -> Built:
        if seed not in cache:
            cache[seed] = build_bundle(slug, tmp_path_factory.mktemp(f"seed{seed}"), seed)
        return cache[seed]

    return get


def run_notebook(notebook: Path, data_dir: Path, workdir: Path, *, timeout: int = 300) -> Path:
    """Run a notebook as grading would: in a folder holding data/ and an empty output/."""
    shutil.copytree(data_dir, workdir / "data")
    (workdir / "output").mkdir()
    client = NotebookClient(
        nbformat.read(notebook, as_version=4),
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    return workdir / "output"


def no_jobs(job: Job) -> Result:
    """Stand in for the sandbox where an exercise's evaluation must run no job: fail the test if it is called."""
    raise AssertionError("this exercise's evaluation must not run sandbox jobs")


def files_of(folder: Path) -> list[Path]:
    """Return the files under the folder, as paths relative to it, sorted."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


class ProcessJobs:
    """Run evaluation jobs with the sandbox's process backend on this virtualenv's Python, keeping each job."""

    def __init__(self, state_dir: Path) -> None:
        config = SandboxConfig(
            state_dir=state_dir, runtime_python={"cpu": Path(sys.executable)}, allow_process_backend=True
        )
        self.backend = get_backend("process", config)
        self.jobs: list[Job] = []

    def __call__(self, job: Job) -> Result:
        self.jobs.append(job)
        # `python` in the job's command must be the runtime's interpreter, which has Keras
        job = dataclasses.replace(job, env={**job.env, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"})
        return self.backend.run(job)


@dataclass(frozen=True)
class ReferenceRun:
    """The reference solution run on a hidden set and scored: its hidden folder, scores and the jobs scoring ran."""

    hidden: Path
    scores: Scores
    jobs: list[Job]


REFERENCE_SEED = 11


def reference_runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ReferenceRun]:
    """Run each exercise's reference solution once (seed REFERENCE_SEED): a run trains a model, minutes on a CPU."""
    cache: dict[str, ReferenceRun] = {}

    def get(slug: str) -> ReferenceRun:
        if slug not in cache:
            root = tmp_path_factory.mktemp(f"reference-{slug}")
            _, hidden = build_bundle(slug, root / "built", REFERENCE_SEED)
            bundle = builtin_bundle(slug)
            output = run_notebook(bundle.source_notebook, hidden / "data", root / "run")
            jobs = ProcessJobs(root / "state")
            scores = evaluate(bundle, output, hidden / "answers.npz", run_job=jobs, work_dir=root / "work")
            cache[slug] = ReferenceRun(hidden=hidden, scores=scores, jobs=jobs.jobs)
        return cache[slug]

    return get
