"""Builders of sandbox jobs: limits, a configuration, running a notebook on a backend this host can run, leftovers."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from pathlib import Path

import pytest

from sandbox import Job, Limits, Mount, Result, SandboxConfig, get_backend, run_job
from tests.builders.notebooks import write_notebook as make_notebook

SMALL = Limits(
    wall_seconds=20,
    cell_seconds=10,
    memory_bytes=256 * 1024 * 1024,
    processes=64,
    output_bytes=64 * 1024,
    cell_output_bytes=8 * 1024,
    disk_bytes=32 * 1024 * 1024,
    output_files=1000,
)

# A cell that tries what a job must not do and writes what it saw to output/probe.json (PORT and HOME_FILE
# are replaced by the test): the same probe serves cold and warm sandboxes.
PROBE = """
import json, os, socket, urllib.request
found = {}
def attempt(name, action):
    try:
        found[name] = repr(action())
    except Exception as exc:
        found[name] = 'failed: ' + type(exc).__name__
attempt('http', lambda: urllib.request.urlopen('http://example.com', timeout=3).read(10))
attempt('dns', lambda: socket.gethostbyname('example.com'))
attempt('raw', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt('worker_port', lambda: socket.create_connection(('127.0.0.1', PORT), timeout=3))
attempt('pid1_environ', lambda: open('/proc/1/environ', 'rb').read())
attempt('home_file', lambda: open(HOME_FILE).read())
attempt('write_data', lambda: open('data/new.txt', 'w').write('x'))
found['environ'] = dict(os.environ)
json.dump(found, open('output/probe.json', 'w'))
"""


def make_config(tmp_path: Path, **overrides: object) -> SandboxConfig:
    """Return a configuration whose runtime is the interpreter running the tests."""
    values: dict[str, object] = {
        "state_dir": tmp_path / "state",
        "runtime_python": {"cpu": Path(sys.executable)},
        "allow_process_backend": True,
    }
    values.update(overrides)
    return SandboxConfig(**values)  # type: ignore[arg-type]


def require_backend(name: str, tmp_path: Path) -> None:
    """Skip, saying why, when this host cannot run the backend."""
    reason = get_backend(name, make_config(tmp_path)).unavailable_reason()
    if reason is not None:
        pytest.skip(f"the {name} backend cannot run here: {reason}")


def run_notebook(
    tmp_path: Path,
    backend: str,
    *cells: str,
    limits: Limits = SMALL,
    kernel: str = "python3",
    mounts: tuple[Mount, ...] = (),
    env: dict[str, str] | None = None,
) -> tuple[Result, Path, str]:
    """Run a notebook made of `cells`; return the result, the output folder and the job's process marker."""
    require_backend(backend, tmp_path)
    marker = uuid.uuid4().hex
    notebook = make_notebook(tmp_path / "submission.ipynb", *cells, kernel=kernel)
    output = tmp_path / "output"
    job = Job(
        output_dir=output,
        notebook=notebook,
        mounts=mounts,
        limits=limits,
        env={"SANDBOX_TEST_MARK": marker, **(env or {})},
    )
    return run_job(job, make_config(tmp_path), backend), output, marker


def processes_marked(marker: str) -> list[int]:
    """Return the host pids whose environment carries the job's marker: the job's processes still alive."""
    found = []
    needle = f"SANDBOX_TEST_MARK={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in Path(f"/proc/{entry}/environ").read_bytes():
                found.append(int(entry))
    return found
