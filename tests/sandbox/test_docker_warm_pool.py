"""Warm docker containers run a job with the imports done, serve one job each, hold a cold job's limits, expire.

Needs a Docker engine and the runtime image (`deploy/sandbox/start-dockerd.sh`, `deploy/sandbox/build-images.sh`);
without them the module is skipped, saying which is missing.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Job, Limits, Mount, Outcome, Result, warm
from sandbox.backends import docker as docker_backend
from sandbox.backends.docker import Backend, ContainerPool, PooledContainer
from tests.builders.notebooks import write_notebook
from tests.builders.sandbox_jobs import SMALL, make_config


def why_docker_cannot_run() -> str | None:
    with tempfile.TemporaryDirectory() as scratch:
        return Backend(make_config(Path(scratch))).unavailable_reason()


REASON = why_docker_cannot_run()
if REASON is not None:
    print(f"test_docker_warm_pool skipped: {REASON}")
    pytest.skip(f"the docker backend cannot run here: {REASON}", allow_module_level=True)

pytestmark = pytest.mark.slow
READY_S = 180.0
ROOMY = dataclasses.replace(SMALL, memory_bytes=1 << 30)  # the runner and a kernel with sklearn fit in it


def job_containers() -> set[str]:
    client = Backend(make_config(Path(tempfile.gettempdir()))).client()
    try:
        return {c.name for c in client.containers.list(all=True, filters={"label": docker_backend.LABEL})}
    finally:
        client.close()


@pytest.fixture(autouse=True)
def no_container_is_left_behind() -> Iterator[None]:
    before = job_containers()
    yield
    assert job_containers() - before == set(), "a job or pool container outlived its pool"


def warm_backend(tmp_path: Path, imports: tuple[str, ...] = ()) -> Backend:
    return Backend(make_config(tmp_path, warm_pool_size=1, warm_imports={"cpu": imports}))


def pool_of(backend: Backend) -> ContainerPool:
    pool = backend.warm_pool
    assert pool is not None
    return pool


def warmed(backend: Backend, limits: Limits) -> PooledContainer:
    """Warm the pool for these limits and return the container the next job will take."""
    pool = pool_of(backend)
    pool.prepare("cpu", limits)
    assert pool.wait_ready("cpu", READY_S), "the warm container never became ready"
    return pool.idle[0]


def run(backend: Backend, tmp_path: Path, *cells: str, limits: Limits = ROOMY, **job: object) -> tuple[Result, Path]:
    name = uuid.uuid4().hex[:8]
    notebook = write_notebook(tmp_path / f"{name}.ipynb", *cells)
    output = tmp_path / f"out-{name}"
    return backend.run(Job(output_dir=output, notebook=notebook, limits=limits, **job)), output  # type: ignore[arg-type]


def gone(sandbox: PooledContainer) -> bool:
    return sandbox.container.name not in job_containers() and not sandbox.folder.exists()


def test_a_warm_container_runs_its_job_with_imports_done_data_env_and_no_network(tmp_path: Path) -> None:
    backend = warm_backend(tmp_path, ("sklearn",))
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("x,y\n1,2\n")
    try:
        sandbox = warmed(backend, ROOMY)
        assert backend.remove_leftovers() == []  # an idle pool container is no leftover
        result, output = run(
            backend,
            tmp_path,
            "import sys, os, json, socket\n"
            "found = {'warm': 'sklearn' in sys.modules, 'data': open('data/train.csv').read(),\n"
            "         'env': os.environ.get('EXERCISE_SEED'), 'cwd': os.getcwd(), 'uid': os.getuid()}\n"
            "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=3); found['net'] = 'reached'\n"
            "except OSError as exc:\n    found['net'] = type(exc).__name__\n"
            "try:\n    open('data/new.txt', 'w'); found['write_data'] = 'written'\n"
            "except OSError as exc:\n    found['write_data'] = type(exc).__name__\n"
            "json.dump(found, open('output/found.json', 'w'))",
            mounts=(Mount(data, "data"),),
            env={"EXERCISE_SEED": "42"},
        )
    finally:
        backend.close()
    assert result.outcome is Outcome.OK, result.message + result.log
    assert result.warm and result.backend == "docker"
    found = json.loads((output / "found.json").read_text())
    assert found["warm"] is True
    assert found["data"] == "x,y\n1,2\n" and found["env"] == "42"
    assert found["cwd"] == "/job" and found["uid"] == 10001
    assert found["net"] != "reached" and found["write_data"] != "written"
    assert not (data / "new.txt").exists()
    assert gone(sandbox)


def test_a_pooled_container_is_locked_down_exactly_as_a_cold_jobs(tmp_path: Path) -> None:
    backend = warm_backend(tmp_path)
    limits = dataclasses.replace(ROOMY, processes=48, cpus=0.5, disk_bytes=48 << 20)
    keys = (
        "Memory", "MemorySwap", "PidsLimit", "NanoCpus", "CpuShares", "NetworkMode", "ReadonlyRootfs", "CapDrop",
        "SecurityOpt", "Tmpfs", "ShmSize", "Init", "IpcMode", "Privileged", "LogConfig",
    )  # fmt: skip
    try:
        sandbox = warmed(backend, limits)
        sandbox.container.reload()
        pooled = sandbox.container.attrs
        cold_job = Job(output_dir=tmp_path / "o", notebook=write_notebook(tmp_path / "n.ipynb", "1"), limits=limits)
        options = backend.container_options(cold_job, backend.image_for("cpu"), uuid.uuid4().hex, None)
        client = backend.client()
        cold = client.containers.create(**options)
        try:
            cold.reload()
            assert {k: pooled["HostConfig"][k] for k in keys} == {k: cold.attrs["HostConfig"][k] for k in keys}
            assert pooled["Config"]["User"] == cold.attrs["Config"]["User"] == docker_backend.KEEPER
        finally:
            cold.remove(force=True)
            client.close()
    finally:
        backend.close()


def test_memory_processes_and_the_wall_clock_end_a_warm_job_as_a_cold_one(tmp_path: Path) -> None:
    backend = warm_backend(tmp_path)
    limits = dataclasses.replace(SMALL, memory_bytes=384 << 20, wall_seconds=6, cell_seconds=6)
    try:
        first = warmed(backend, limits)
        memory, _ = run(backend, tmp_path, "x = []\nwhile True:\n    x.append(b'x' * (32 << 20))", limits=limits)
        assert gone(first)
        second = warmed(backend, limits)
        assert second.container.name != first.container.name  # one job each: a new container for the next
        bomb_limits = dataclasses.replace(limits, wall_seconds=120, cell_seconds=120)  # same container, longer clock
        bomb, _ = run(
            backend,
            tmp_path,
            "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError: pass",
            limits=bomb_limits,
        )
        third = warmed(backend, limits)
        time.sleep(limits.wall_seconds + 1)  # idle longer than the job may run: the clock starts at the hand-over
        quick, _ = run(backend, tmp_path, "x = 1", limits=limits)
        assert quick.outcome is Outcome.OK and quick.warm, quick.message
        assert gone(third)
        slow, _ = run(backend, tmp_path, "import time", "time.sleep(60)", limits=limits)
    finally:
        backend.close()
    assert memory.outcome is Outcome.MEMORY and memory.warm, memory.message
    assert bomb.outcome is Outcome.PROCESSES and bomb.warm, bomb.message
    assert bomb.duration_s < 60
    assert slow.outcome is Outcome.TIMEOUT and slow.warm, slow.message
    assert slow.duration_s < 30


def test_an_idle_container_past_its_expiry_is_replaced_by_a_fresh_one(tmp_path: Path) -> None:
    backend = warm_backend(tmp_path)
    try:
        old = warmed(backend, ROOMY)
        pool = pool_of(backend)
        old.expires = time.time()  # as if it had waited POOL_IDLE_S
        assert not pool.usable_for(old, Job(output_dir=tmp_path, command=("true",), limits=ROOMY))
        pool.replace_expired()
        assert gone(old)
        assert pool.wait_ready("cpu", READY_S)
        fresh = pool.idle[0]
        assert fresh.container.name != old.container.name
        fresh.expires = time.time()  # a job arrives before the periodic look: it too drops the expired one
        result, _ = run(backend, tmp_path, "x = 1")
        assert result.outcome is Outcome.OK and not result.warm, result.message
        deadline = time.monotonic() + 30
        while not gone(fresh) and time.monotonic() < deadline:  # destroyed beside the job, not before it
            time.sleep(0.2)
        assert gone(fresh)
        assert pool.wait_ready("cpu", READY_S), "no replacement started for the expired container"
    finally:
        backend.close()


def test_a_killed_workers_warm_container_stops_by_itself_and_the_cleanup_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing closes the pool of a killed worker: its containers' own lifetime ends them, then the cleanup."""
    limits = dataclasses.replace(ROOMY, wall_seconds=5)
    # A lifetime of 8 s instead of POOL_IDLE_S + wall clock + margin.
    monkeypatch.setattr(warm, "POOL_IDLE_S", 8 - limits.wall_seconds - docker_backend.LEFTOVER_MARGIN_S)
    backend = warm_backend(tmp_path)
    options = backend.container_options(
        Job(output_dir=tmp_path, command=("true",), limits=limits), "image", "id", None, pool_stage=tmp_path
    )
    assert options["command"] == ["sleep", "8"]
    assert int(options["labels"][docker_backend.EXPIRES_LABEL]) <= time.time() + 8
    pool = pool_of(backend)
    try:
        pool.prepare("cpu", limits)
        deadline = time.monotonic() + READY_S
        while not pool.idle and time.monotonic() < deadline:
            time.sleep(0.2)
        left = pool.idle[0]
        pool.idle.clear()  # the worker is gone: nobody will take or close it
        deadline = time.monotonic() + 60
        while left.alive() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not left.alive(), "the container did not stop at the end of its lifetime"
        time.sleep(1)
        assert left.container.name in backend.remove_leftovers()
    finally:
        pool.closed = True  # no replacement may start meanwhile
        backend.close()
        for name in job_containers():
            if name == left.container.name:
                pytest.fail("the cleanup left the dead worker's container")
