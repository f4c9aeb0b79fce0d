"""Builders of exercise bundles' data: build a bundle's data once per seed, run a notebook as grading would."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from exercises.bundles import build_data, builtin_bundle
from sandbox.jobs import Job, Result

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
