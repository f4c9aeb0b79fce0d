"""A notebook or command runs in the sandbox and reports what happened, on every backend this host has."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from sandbox import Job, Outcome, get_backend, run_job
from tests.builders.notebooks import write_notebook
from tests.builders.sandbox_jobs import SMALL, make_config, processes_marked, require_backend, run_notebook

BACKENDS = ["bwrap", "process"]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_notebook_that_works_ends_ok_and_leaves_its_files_in_output(tmp_path: Path, backend: str) -> None:
    result, output, marker = run_notebook(
        tmp_path,
        backend,
        "print('training')",
        "open('output/predictions.csv', 'w').write('id,score\\n1,0.5\\n')",
        "42",
    )
    assert result.outcome is Outcome.OK, result.message
    assert result.backend == backend
    assert (output / "predictions.csv").read_text() == "id,score\n1,0.5\n"
    assert "training" in result.log
    assert result.executed_notebook is not None
    assert "".join(result.executed_notebook["cells"][2]["outputs"][0]["data"]["text/plain"]) == "42"
    assert processes_marked(marker) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_exception_ends_as_error_naming_the_failing_cell(tmp_path: Path, backend: str) -> None:
    result, _, _ = run_notebook(tmp_path, backend, "x = 1", "y = x / 0", "print('never')")
    assert result.outcome is Outcome.ERROR
    assert result.failed_cell == 1
    assert result.traceback is not None and "ZeroDivisionError" in result.traceback
    assert "Cell 1" in result.message


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_notebook_naming_another_kernel_still_runs_on_the_runtime_kernel(tmp_path: Path, backend: str) -> None:
    result, output, _ = run_notebook(
        tmp_path,
        backend,
        "import sys; open('output/python.txt', 'w').write(sys.executable)",
        kernel="julia-1.10",
    )
    assert result.outcome is Outcome.OK, result.message
    assert (output / "python.txt").read_text().startswith(str(Path(__file__).parents[2] / ".venv")) or (
        output / "python.txt"
    ).read_text().endswith(("python", "python3", "python3.12"))
    assert result.executed_notebook is not None
    assert result.executed_notebook["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("backend", BACKENDS)
def test_stored_outputs_are_cut_at_the_cell_output_limit(tmp_path: Path, backend: str) -> None:
    result, _, _ = run_notebook(tmp_path, backend, "print('y' * 20000)")
    assert result.outcome is Outcome.OK, result.message
    assert result.executed_notebook is not None
    text = "".join(result.executed_notebook["cells"][0]["outputs"][0]["text"])
    assert len(text) < SMALL.cell_output_bytes + 100
    assert "truncated" in text


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_command_job_runs_in_the_working_folder(tmp_path: Path, backend: str) -> None:
    require_backend(backend, tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.txt").write_text("hello")
    job = Job(
        output_dir=tmp_path / "output",
        command=("/bin/sh", "-c", "cat data/x.txt > output/copy.txt; echo done"),
        mounts=(__import__("sandbox").Mount(source=data, name="data"),),
        limits=SMALL,
    )
    result = run_job(job, make_config(tmp_path), backend)
    assert result.outcome is Outcome.OK, result.message + result.log
    assert (tmp_path / "output" / "copy.txt").read_text() == "hello"
    assert "done" in result.log


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failing_command_ends_as_error(tmp_path: Path, backend: str) -> None:
    require_backend(backend, tmp_path)
    job = Job(output_dir=tmp_path / "output", command=("/bin/sh", "-c", "exit 3"), limits=SMALL)
    result = run_job(job, make_config(tmp_path), backend)
    assert result.outcome is Outcome.ERROR
    assert "3" in result.message


def test_an_unknown_backend_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bwrap"):
        get_backend("chroot", make_config(tmp_path))


def test_the_default_backend_is_the_strongest_available(tmp_path: Path) -> None:
    backend = get_backend(None, make_config(tmp_path))
    if get_backend("bwrap", make_config(tmp_path)).unavailable_reason() is None:
        assert backend.name in ("docker", "bwrap")
    assert backend.unavailable_reason() is None


def test_the_process_backend_refuses_to_run_unless_switched_on(tmp_path: Path) -> None:
    config = make_config(tmp_path, allow_process_backend=False)
    notebook = write_notebook(tmp_path / "n.ipynb", "1")
    result = run_job(Job(output_dir=tmp_path / "out", notebook=notebook), config, "process")
    assert result.outcome is Outcome.INFRASTRUCTURE
    assert "allow_process_backend" in result.message


def test_the_report_survives_a_round_trip_through_json() -> None:
    from sandbox.runner import Report, read_report

    report = Report(Outcome.ERROR, "Cell 2 raised KeyError", 1.5, failed_cell=2, executed_notebook={"cells": []})
    assert read_report("noise\n" + report.to_json() + "\n") == report
    assert read_report(json.dumps({"event": "ready"})) is None


@pytest.mark.parametrize("backend", ["bwrap"])  # the process backend has no /dev/shm of its own to size
def test_dev_shm_holds_a_data_loaders_batches_beyond_dockers_default_64_mib(tmp_path: Path, backend: str) -> None:
    """PyTorch's DataLoader workers and tf.data pass batches through /dev/shm; it gets the job's disk budget."""
    limits = dataclasses.replace(SMALL, memory_bytes=512 * 1024 * 1024, disk_bytes=256 * 1024 * 1024)
    cell = (
        "import os\nwith open('/dev/shm/batch', 'wb') as f:\n    f.write(b'x' * (100 << 20))\n"
        "print(os.path.getsize('/dev/shm/batch'))"
    )
    result, _, _ = run_notebook(tmp_path, backend, cell, limits=limits)
    assert result.outcome is Outcome.OK, result.message + result.log
    assert str(100 << 20) in result.log
