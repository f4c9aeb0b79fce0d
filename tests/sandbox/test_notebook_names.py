"""The notebook's name inside /job follows one rule on every backend: a name in the way is replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox import Job, Mount, Outcome, run_job
from sandbox.backends import base
from sandbox.backends import docker as docker_backend
from tests.builders.notebooks import write_notebook
from tests.builders.sandbox_jobs import SMALL, make_config, require_backend

LIST_JOB = "import json, os; json.dump(sorted(os.listdir('.')), open('output/names.json', 'w'))"


def job_with(tmp_path: Path, notebook_name: str, *mounts: Mount) -> Job:
    folder = tmp_path / "upload"
    folder.mkdir(exist_ok=True)
    notebook = write_notebook(folder / notebook_name, LIST_JOB)
    return Job(output_dir=tmp_path / "output", notebook=notebook, mounts=mounts, limits=SMALL)


@pytest.mark.parametrize("name", ["output", ".tmp", ".home", ".hidden.ipynb", "data"])
def test_a_name_in_the_way_becomes_submission_ipynb(tmp_path: Path, name: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert base.notebook_name_for(job_with(tmp_path, name, Mount(data, "data"))) == "submission.ipynb"


def test_a_plain_name_is_kept_and_a_command_job_has_none(tmp_path: Path) -> None:
    assert base.notebook_name_for(job_with(tmp_path, "solution.ipynb")) == "solution.ipynb"
    assert base.notebook_name_for(Job(output_dir=tmp_path / "out", command=("true",))) is None


@pytest.mark.parametrize("backend", ["bwrap", "process"])
def test_a_hidden_notebook_name_runs_as_submission_ipynb(tmp_path: Path, backend: str) -> None:
    require_backend(backend, tmp_path)
    result = run_job(job_with(tmp_path, ".hidden.ipynb"), make_config(tmp_path), backend)
    assert result.outcome is Outcome.OK, result.message
    names = json.loads((tmp_path / "output" / "names.json").read_text())
    assert "submission.ipynb" in names and ".hidden.ipynb" not in names


@pytest.mark.parametrize("backend", ["bwrap", "process"])
def test_a_notebook_named_like_a_mount_leaves_the_mount_alone(tmp_path: Path, backend: str) -> None:
    require_backend(backend, tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_text("1,2\n")
    result = run_job(job_with(tmp_path, "data", Mount(data, "data")), make_config(tmp_path), backend)
    assert result.outcome is Outcome.OK, result.message
    assert sorted(p.name for p in data.iterdir()) == ["x.csv"]
    assert "submission.ipynb" in json.loads((tmp_path / "output" / "names.json").read_text())


def test_the_docker_container_binds_a_hidden_notebook_as_submission_ipynb(tmp_path: Path) -> None:
    sandbox_backend = docker_backend.Backend(make_config(tmp_path))
    options = sandbox_backend.container_options(job_with(tmp_path, ".home"), "image", "f" * 32, None)
    targets = {mount["Target"] for mount in options["mounts"]}
    assert "/job/submission.ipynb" in targets and "/job/.home" not in targets
    assert sandbox_backend.runner_command(job_with(tmp_path, ".home"))[-2] == "submission.ipynb"
