"""Warm bwrap sandboxes run a job with the imports already done, serve one job each, and hold every limit."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Job, Limits, Mount, Outcome, Result, warm
from sandbox.backends.bwrap import Backend
from sandbox.warm import WarmPool, WarmSandbox, fits, move_output, stage_copy
from tests.builders.notebooks import write_notebook
from tests.builders.sandbox_jobs import PROBE, SMALL, make_config, require_backend

ROOT = Path(__file__).resolve().parents[2]
READY_S = 120.0
pytestmark = pytest.mark.slow
ROOMY = dataclasses.replace(SMALL, memory_bytes=1 << 30)  # the runner and a kernel with sklearn fit in it


def warm_backend(tmp_path: Path, imports: tuple[str, ...]) -> Backend:
    require_backend("bwrap", tmp_path)
    config = make_config(tmp_path, warm_pool_size=1, warm_imports={"cpu": imports})
    backend = Backend(config)
    return backend


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    """A bwrap backend with a pool of one sandbox that preloads nothing (quick to warm)."""
    backend = warm_backend(tmp_path, ())
    yield backend
    backend.close()


def warmed(backend: Backend, limits: Limits) -> WarmSandbox:
    """Warm the pool for these limits and return the sandbox the next job will take."""
    pool = backend.warm_pool
    assert pool is not None
    pool.prepare("cpu", limits)
    assert pool.wait_ready("cpu", READY_S), "the warm sandbox never became ready"
    return pool.idle[0]


def run(backend: Backend, tmp_path: Path, *cells: str, limits: Limits = ROOMY) -> tuple[Result, Path]:
    """Run a notebook made of `cells`; return the result and the job's output folder."""
    name = uuid.uuid4().hex[:8]
    notebook = write_notebook(tmp_path / f"{name}.ipynb", *cells)
    output = tmp_path / f"out-{name}"
    return backend.run(Job(output_dir=output, notebook=notebook, limits=limits)), output


def assert_gone(sandbox: WarmSandbox) -> None:
    """The sandbox that ran the job is dead, its cgroup and folders removed."""
    assert sandbox.proc.poll() is not None
    assert not sandbox.folder.exists()
    if sandbox.launch.cgroup is not None:
        assert not sandbox.launch.cgroup.memory.exists()


def test_a_warm_job_finds_its_imports_done_its_data_its_env_and_gets_its_output_back(tmp_path: Path) -> None:
    backend = warm_backend(tmp_path, ("numpy", "sklearn"))
    sandbox = warmed(backend, ROOMY)
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("x,y\n1,2\n")
    output = tmp_path / "output"
    notebook = write_notebook(
        tmp_path / "submission.ipynb",
        # First cell, before importing anything: sklearn must already be loaded by the warm-up.
        "import sys\npreloaded = 'sklearn' in sys.modules",
        "import os\nopen('output/seen.json', 'w').write(__import__('json').dumps("
        "[preloaded, open('data/train.csv').read(), os.environ.get('EXERCISE')]))",
        "os.symlink('/etc/hostname', 'output/answer.csv')",
    )
    job = Job(
        output_dir=output,
        notebook=notebook,
        mounts=(Mount(source=data, name="data"),),
        limits=ROOMY,
        env={"EXERCISE": "higgs"},
    )
    try:
        result = backend.run(job)
    finally:
        backend.close()
    assert result.outcome is Outcome.OK, result.message + result.log
    assert result.warm
    assert json.loads((output / "seen.json").read_text()) == [True, "x,y\n1,2\n", "higgs"]
    assert (output / "answer.csv").is_symlink()  # moved back as a link, never read through
    assert (data / "train.csv").read_text() == "x,y\n1,2\n"
    assert_gone(sandbox)


def test_a_cold_job_has_not_imported_sklearn_so_the_warm_proof_can_fail(tmp_path: Path) -> None:
    require_backend("bwrap", tmp_path)
    result, output = run(
        Backend(make_config(tmp_path)),
        tmp_path,
        "import sys\nopen('output/p', 'w').write(str('sklearn' in sys.modules))",
    )
    assert result.outcome is Outcome.OK, result.message
    assert not result.warm
    assert (output / "p").read_text() == "False"


def test_each_warm_sandbox_serves_one_job_and_the_next_job_gets_a_fresh_one(backend: Backend, tmp_path: Path) -> None:
    first_sandbox = warmed(backend, ROOMY)
    first, _ = run(backend, tmp_path, "open('/tmp/left-behind', 'w').write('secret of the first job')")
    assert first.outcome is Outcome.OK and first.warm, first.message
    assert_gone(first_sandbox)
    second, output = run(
        backend,
        tmp_path,
        "import os\nopen('output/found', 'w').write(str(os.path.exists('/tmp/left-behind')))",
    )
    assert second.outcome is Outcome.OK and second.warm, second.message
    assert (output / "found").read_text() == "False"


def test_a_memory_bomb_in_a_warm_sandbox_ends_with_memory_outcome(tmp_path: Path) -> None:
    backend = warm_backend(tmp_path, ("numpy",))
    try:
        limits = dataclasses.replace(SMALL, memory_bytes=384 << 20)
        sandbox = warmed(backend, limits)
        result, _ = run(backend, tmp_path, "x = []\nwhile True:\n    x.append(b'x' * (32 << 20))", limits=limits)
    finally:
        backend.close()
    assert result.outcome is Outcome.MEMORY, result.message
    assert result.warm
    assert_gone(sandbox)


def test_an_endless_loop_in_a_warm_sandbox_ends_with_timeout_naming_the_cell(tmp_path: Path) -> None:
    backend = warm_backend(tmp_path, ("numpy",))
    try:
        limits = dataclasses.replace(SMALL, cell_seconds=3, memory_bytes=384 << 20)
        sandbox = warmed(backend, limits)
        result, _ = run(backend, tmp_path, "x = 1", "while True: pass", limits=limits)
    finally:
        backend.close()
    assert result.outcome is Outcome.TIMEOUT, result.message
    assert result.failed_cell == 1
    assert result.warm
    assert_gone(sandbox)


def test_the_wall_clock_starts_when_the_job_arrives_not_when_the_sandbox_warmed(tmp_path: Path) -> None:
    backend = warm_backend(tmp_path, ())
    try:
        limits = dataclasses.replace(SMALL, wall_seconds=4, cell_seconds=4, memory_bytes=384 << 20)
        warmed(backend, limits)
        time.sleep(limits.wall_seconds + 1)  # idle longer than the job may run
        quick, _ = run(backend, tmp_path, "x = 1", limits=limits)
        assert quick.outcome is Outcome.OK and quick.warm, quick.message
        slow, _ = run(backend, tmp_path, "import time", "time.sleep(60)", limits=limits)
    finally:
        backend.close()
    assert slow.outcome is Outcome.TIMEOUT, slow.message
    assert slow.warm
    assert slow.duration_s < 30


def test_a_warm_job_reaches_no_network_no_secret_no_home_like_a_cold_one(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = uuid.uuid4().hex
    monkeypatch.setenv("WORKER_SECRET", secret)  # set before the pool starts its sandbox
    home_file = Path.home() / f"sandbox-test-{secret}.txt"
    home_file.write_text(secret)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    data = tmp_path / "data"
    data.mkdir()
    output = tmp_path / "output"
    try:
        warmed(backend, ROOMY)
        cell = PROBE.replace("PORT", str(server.getsockname()[1])).replace("HOME_FILE", repr(str(home_file)))
        notebook = write_notebook(tmp_path / "probe.ipynb", cell)
        job = Job(output_dir=output, notebook=notebook, mounts=(Mount(source=data, name="data"),), limits=ROOMY)
        result = backend.run(job)
    finally:
        home_file.unlink()
        server.close()
    assert result.outcome is Outcome.OK and result.warm, result.message
    found = json.loads((output / "probe.json").read_text())
    for name in ("http", "dns", "raw", "worker_port", "pid1_environ", "home_file", "write_data"):
        assert found[name].startswith("failed"), (name, found[name])
    assert secret not in json.dumps(found)
    assert "WORKER_SECRET" not in found["environ"]
    assert not (data / "new.txt").exists()


def test_closing_the_pool_stops_its_sandboxes(tmp_path: Path) -> None:
    backend = warm_backend(tmp_path, ())
    sandbox = warmed(backend, ROOMY)
    assert sandbox.proc.poll() is None
    backend.close()
    assert_gone(sandbox)


def alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie waiting for a reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


WORKER = """
import sys, time
sys.path[:0] = [ROOT]
from tests.builders.sandbox_jobs import SMALL, make_config
from pathlib import Path
from sandbox.backends.bwrap import Backend
backend = Backend(make_config(Path(STATE), warm_pool_size=1, warm_imports={'cpu': ()}))
backend.warm_pool.prepare('cpu', SMALL)
assert backend.warm_pool.wait_ready('cpu', 120)
sandbox = backend.warm_pool.idle[0]
pids = [sandbox.proc.pid] + (sandbox.launch.cgroup.pids_in_group() if sandbox.launch.cgroup else [])
print(' '.join(map(str, pids)), flush=True)
time.sleep(600)
"""


def test_warm_sandboxes_die_with_a_worker_that_is_killed(tmp_path: Path) -> None:
    require_backend("bwrap", tmp_path)
    program = textwrap.dedent(WORKER).replace("ROOT", repr(str(ROOT))).replace("STATE", repr(str(tmp_path)))
    worker = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        pids = [int(p) for p in worker.stdout.readline().split()]
        assert pids and all(alive(pid) for pid in pids)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in pids if alive(pid)] == []


def test_only_cpu_notebooks_with_plain_mount_names_fit_a_warm_sandbox(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "n.ipynb", "1")
    data = tmp_path / "data"
    data.mkdir()
    assert fits(Job(output_dir=tmp_path / "o", notebook=notebook, mounts=(Mount(data, "data"),)))
    assert not fits(Job(output_dir=tmp_path / "o", command=("true",)))
    assert not fits(Job(output_dir=tmp_path / "o", notebook=notebook, gpu=True))
    assert not fits(Job(output_dir=tmp_path / "o", notebook=notebook, mounts=(Mount(data, "inputs/data"),)))
    assert not fits(Job(output_dir=tmp_path / "o", notebook=notebook, mounts=(Mount(tmp_path / "missing", "d"),)))


def test_staging_links_the_inputs_and_output_comes_back_without_following_links(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "images").mkdir(parents=True)
    (source / "images" / "a.png").write_bytes(b"png")
    (source / "latest").symlink_to("images/a.png")
    stage_copy(source, tmp_path / "stage")
    assert os.stat(tmp_path / "stage" / "images" / "a.png").st_ino == os.stat(source / "images" / "a.png").st_ino
    assert os.readlink(tmp_path / "stage" / "latest") == "images/a.png"

    made = tmp_path / "made"
    (made / "plots").mkdir(parents=True)
    (made / "plots" / "roc.png").write_bytes(b"roc")
    (made / "answer.csv").symlink_to("/etc/hostname")
    dest = tmp_path / "dest"
    (dest / "plots").mkdir(parents=True)  # a folder already there: merged, not replaced
    move_output(made, dest)
    assert (dest / "plots" / "roc.png").read_bytes() == b"roc"
    assert os.readlink(dest / "answer.csv") == "/etc/hostname"


def test_a_pool_is_shared_by_every_backend_of_one_configuration(tmp_path: Path) -> None:
    require_backend("bwrap", tmp_path)
    config = make_config(tmp_path, warm_pool_size=1, warm_imports={"cpu": ()})
    first, second = Backend(config), Backend(config)
    try:
        assert isinstance(first.warm_pool, WarmPool)
        assert first.warm_pool is second.warm_pool
        assert Backend(make_config(tmp_path)).warm_pool is None
    finally:
        first.close()


def test_a_kernel_that_dies_while_warming_up_ends_the_sandbox_at_once(tmp_path: Path) -> None:
    """The runner has no heartbeat channel: it must see a dead kernel itself, not wait out the warm-up hour."""
    from sandbox.runner import read_report

    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "sandbox.runner", "--preload", "os; os._exit(3)", "--warm", "-"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = read_report(finished.stdout)
    assert report is not None and report.outcome is Outcome.INFRASTRUCTURE, finished.stdout + finished.stderr
    assert "kernel died" in report.message
    assert time.monotonic() - started < 60


def test_a_warm_container_gets_inputs_it_cannot_link_by_copy_up_to_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In compose the private data and the state folder are two mounts: a hard link between them fails (EXDEV)."""
    from sandbox.backends import docker

    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_bytes(b"x" * 4096)
    job = Job(
        output_dir=tmp_path / "o", notebook=write_notebook(tmp_path / "n.ipynb", "1"), mounts=(Mount(data, "data"),)
    )
    backend = docker.Backend(make_config(tmp_path, warm_pool_size=1))
    pool = backend.warm_pool
    assert pool is not None
    try:
        assert pool.can_link(job)  # one file system, one mount here: linked
        monkeypatch.setattr(docker.os, "link", lambda *a, **k: (_ for _ in ()).throw(OSError(18, "EXDEV")))
        assert pool.can_link(job)  # small enough to copy
        monkeypatch.setattr(warm, "COPY_MAX_BYTES", 1024)
        assert not pool.can_link(job)  # too big to copy: it runs cold
    finally:
        backend.close()
