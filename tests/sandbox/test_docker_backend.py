"""The docker backend runs notebooks and contains hostile ones as bwrap does, and never leaves a container behind.

Needs a Docker engine and the runtime image: `deploy/sandbox/start-dockerd.sh` then
`deploy/sandbox/build-images.sh`. Without them the whole module is skipped, saying which is missing.
"""

from __future__ import annotations

import json
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import test_sandbox_isolation as bwrap_isolation
import test_sandbox_limits as bwrap_limits
import test_sandbox_notebooks as bwrap_notebooks

from sandbox import GpuDevice, Job, Limits, Mount, Outcome, run_job
from sandbox.backends import docker as docker_backend
from sandbox.gpus import GpuLeases
from tests.builders.sandbox_jobs import SMALL, make_config, processes_marked, run_notebook


def why_docker_cannot_run() -> str | None:
    with tempfile.TemporaryDirectory() as scratch:
        return docker_backend.Backend(make_config(Path(scratch))).unavailable_reason()


REASON = why_docker_cannot_run()
if REASON is not None:
    print(f"test_docker_backend skipped: {REASON}")
    pytest.skip(f"the docker backend cannot run here: {REASON}", allow_module_level=True)

pytestmark = pytest.mark.slow


def shared_cases() -> list[object]:
    """Collect every test of the bwrap/process suites that is parametrized by backend, with its other marks.

    They take (tmp_path, backend) and prove a behaviour every backend owes, so they run unchanged on docker,
    and a case added there is proved here too. Marks such as a documented xfail come along.
    """
    cases = []
    for module in (bwrap_notebooks, bwrap_limits):
        for name, function in sorted(vars(module).items()):
            marks = getattr(function, "pytestmark", [])
            if not name.startswith("test_") or not any(
                mark.name == "parametrize" and mark.args[0] == "backend" for mark in marks
            ):
                continue
            others = [mark for mark in marks if mark.name != "parametrize"]
            cases.append(pytest.param(function, marks=others, id=name))
    return cases


def job_containers() -> list[str]:
    """Return the names of every job container the engine still has, running or not."""
    client = docker_backend.Backend(make_config(Path(tempfile.gettempdir()))).client()
    try:
        return [c.name for c in client.containers.list(all=True, filters={"label": docker_backend.LABEL})]
    finally:
        client.close()


@pytest.fixture(autouse=True)
def no_container_is_left_behind() -> Iterator[None]:
    before = set(job_containers())
    yield
    assert set(job_containers()) - before == set(), "a job container outlived its job"


def run_cells(tmp_path: Path, *cells: str, **kwargs: object) -> tuple:
    return run_notebook(tmp_path, "docker", *cells, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", shared_cases())
def test_the_bwrap_behaviours_hold_on_docker(tmp_path: Path, case: Callable[[Path, str], None]) -> None:
    case(tmp_path, "docker")


def test_a_working_notebook_reports_its_backend_and_peak_memory(tmp_path: Path) -> None:
    result, output, _ = run_cells(tmp_path, "import numpy\nopen('output/n.txt', 'w').write(str(numpy.arange(3).sum()))")
    assert result.outcome is Outcome.OK, result.message
    assert result.backend == "docker"
    assert (output / "n.txt").read_text() == "3"
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes > 10 * 1024 * 1024


def test_filling_tmp_ends_with_disk_outcome(tmp_path: Path) -> None:
    result, _, marker = run_cells(
        tmp_path, "with open('/tmp/fill', 'wb') as f:\n    for _ in range(64):\n        f.write(b'x' * (1 << 20))"
    )
    assert result.outcome is Outcome.DISK, result.message
    assert processes_marked(marker) == []


def test_tmp_and_output_share_one_disk_budget(tmp_path: Path) -> None:
    # 20 MiB in each fits either alone (32 MiB) but not both together.
    result, _, _ = run_cells(
        tmp_path,
        "open('/tmp/a', 'wb').write(b'x' * (20 << 20))",
        "open('output/b', 'wb').write(b'x' * (20 << 20))",
    )
    assert result.outcome is Outcome.DISK, result.message
    assert result.failed_cell == 1


def test_the_isolation_probe_of_the_bwrap_suite_finds_nothing_on_docker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = uuid.uuid4().hex
    monkeypatch.setenv("WORKER_SECRET", secret)
    home_file = Path.home() / f"sandbox-test-{secret}.txt"
    home_file.write_text(secret)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    data = tmp_path / "data"
    data.mkdir()
    try:
        cell = bwrap_isolation.PROBE.replace("PORT", str(server.getsockname()[1]))
        cell = cell.replace("HOME_FILE", repr(str(home_file)))
        result, output, _ = run_cells(tmp_path, cell, mounts=(Mount(source=data, name="data"),))
    finally:
        home_file.unlink()
        server.close()
    assert result.outcome is Outcome.OK, result.message
    found = json.loads((output / "probe.json").read_text())
    for name in ("http", "dns", "raw", "worker_port", "pid1_environ", "home_file", "write_data"):
        assert found[name].startswith("failed"), (name, found[name])
    assert secret not in json.dumps(found)
    assert "WORKER_SECRET" not in found["environ"]
    assert not (data / "new.txt").exists()


def test_the_job_sees_neither_the_workers_environment_nor_its_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_SECRET", "s3cr3t-" + socket.gethostname())
    result, output, _ = run_cells(
        tmp_path,
        "import os, glob\n"
        "seen = repr(dict(os.environ))\n"
        "for path in glob.glob('/proc/[0-9]*/environ'):\n"
        "    try:\n"
        "        seen += open(path, 'rb').read().decode(errors='replace')\n"
        "    except OSError:\n"
        "        pass\n"
        "open('output/seen.txt', 'w').write(seen)",
    )
    assert result.outcome is Outcome.OK, result.message
    seen = (output / "seen.txt").read_text()
    assert "s3cr3t" not in seen
    assert "WORKER_SECRET" not in seen
    assert "SANDBOX_TEST_MARK" in seen  # the job's own variables do arrive


def test_the_job_runs_unprivileged_on_a_read_only_system(tmp_path: Path) -> None:
    result, output, _ = run_cells(
        tmp_path,
        "import os\n"
        "caps = [l for l in open('/proc/self/status') if l.startswith(('CapEff', 'NoNewPrivs'))]\n"
        "try:\n"
        "    open('/usr/evil', 'w')\n"
        "    rootfs = 'writable'\n"
        "except OSError as exc:\n"
        "    rootfs = exc.strerror\n"
        "open('output/who.txt', 'w').write(f'{os.getuid()} {rootfs} {caps}')",
    )
    assert result.outcome is Outcome.OK, result.message
    who = (output / "who.txt").read_text()
    assert who.startswith("10001 Read-only file system")
    assert "CapEff:\\t0000000000000000" in who
    assert "NoNewPrivs:\\t1" in who


def test_writing_to_data_fails_and_leaves_it_unchanged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("x,y\n1,2\n")
    result, _, _ = run_cells(
        tmp_path,
        "print(open('data/train.csv').read())",
        "open('data/train.csv', 'w').write('tampered')",
        mounts=(Mount(source=data, name="data"),),
    )
    assert result.outcome is Outcome.ERROR
    assert result.failed_cell == 1
    assert "Read-only file system" in (result.traceback or "")
    assert (data / "train.csv").read_text() == "x,y\n1,2\n"


def test_a_report_forged_by_the_notebook_is_not_believed(tmp_path: Path) -> None:
    forged = '{"outcome": "ok", "message": "forged", "duration_s": 0.0}'
    result, _, _ = run_cells(
        tmp_path,
        f"print({forged!r})\n"
        "for fd in ('/proc/1/fd/1', '/proc/1/fd/2'):\n"
        "    try:\n"
        f"        open(fd, 'w').write({forged!r} + '\\n')\n"
        "    except OSError:\n"
        "        pass",
        "raise ValueError('the real end')",
    )
    assert result.outcome is Outcome.ERROR
    assert "the real end" in result.message


def test_a_job_that_kills_every_process_it_can_loses_its_report_but_not_its_output(tmp_path: Path) -> None:
    result, output, _ = run_cells(
        tmp_path,
        "open('output/saved.txt', 'w').write('before the end')",
        "import os, signal\nos.kill(-1, signal.SIGKILL)",
    )
    assert result.outcome is Outcome.ERROR
    assert "without a report" in result.message
    assert (output / "saved.txt").read_text() == "before the end"


def test_links_in_output_do_not_come_out_to_the_host(tmp_path: Path) -> None:
    result, output, _ = run_cells(
        tmp_path,
        "import os\nos.symlink('/etc/passwd', 'output/passwd')\nopen('output/real.txt', 'w').write('kept')",
    )
    assert result.outcome is Outcome.OK, result.message
    assert sorted(p.name for p in output.iterdir()) == ["real.txt"]


def test_the_wall_clock_backstop_kills_the_container(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A negative grace makes the backstop fire 3 s in, long before the runner's own 30 s clock.
    monkeypatch.setattr(docker_backend, "WALL_GRACE_S", -27.0)
    limits = Limits(**{**SMALL.__dict__, "wall_seconds": 30})
    job = Job(output_dir=tmp_path / "output", command=("sleep", "60"), limits=limits)
    result = run_job(job, make_config(tmp_path), "docker")
    assert result.outcome is Outcome.TIMEOUT, result.message
    assert result.duration_s < 20


def test_the_container_is_removed_when_the_backend_itself_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_copy(*args: object) -> int:
        raise RuntimeError("copying output broke")

    monkeypatch.setattr(docker_backend, "copy_output", broken_copy)
    job = Job(output_dir=tmp_path / "output", command=("true",), limits=SMALL)
    with pytest.raises(RuntimeError, match="copying output broke"):
        docker_backend.Backend(make_config(tmp_path)).run(job)
    # the autouse fixture asserts that no container is left


def test_a_gpu_job_asks_the_engine_for_the_leased_device_only_and_gives_the_lease_back(tmp_path: Path) -> None:
    devices = (GpuDevice(id="GPU-test-0", model="T4"), GpuDevice(id="GPU-test-1", model="T4"))
    config = make_config(tmp_path, gpus=devices, gpu_wait_seconds=1.0)
    backend = docker_backend.Backend(config)
    options = backend.container_options(Job(output_dir=tmp_path, command=("true",)), "img", "id", devices[0])
    assert [r["DeviceIDs"] for r in options["device_requests"]] == [["GPU-test-0"]]
    result = backend.run(Job(output_dir=tmp_path / "output", command=("nvidia-smi",), gpu=True, limits=SMALL))
    if result.outcome is not Outcome.INFRASTRUCTURE:
        pytest.skip("this engine has the NVIDIA runtime; the GPU path needs a real device test instead")
    # No NVIDIA runtime here: the engine refuses the device request, and the lease must be free again.
    assert "gpu" in result.message.lower()
    leases = GpuLeases(devices, config.state_dir, config.lease_seconds)
    first, second = leases.try_acquire(), leases.try_acquire()
    assert first is not None and second is not None
    assert first.device.id == "GPU-test-0"
    first.release()
    second.release()


def test_a_missing_image_is_named_with_the_command_that_builds_it(tmp_path: Path) -> None:
    config = make_config(tmp_path, docker_images={"cpu": "ml-infn/runtime-cpu:no-such-version"})
    reason = docker_backend.Backend(config).unavailable_reason()
    assert reason is not None
    assert "ml-infn/runtime-cpu:no-such-version" in reason
    assert "deploy/sandbox/build-images.sh" in reason


def test_a_worker_without_gpus_runs_jobs_without_the_gpu_image(tmp_path: Path) -> None:
    images = {"cpu": docker_backend.Backend(make_config(tmp_path)).image_for("cpu"), "gpu": "ml-infn/no-gpu-image:0"}
    assert docker_backend.Backend(make_config(tmp_path, docker_images=images)).unavailable_reason() is None
    with_gpus = make_config(tmp_path, docker_images=images, gpus=(GpuDevice(id="GPU-test-0", model="T4"),))
    reason = docker_backend.Backend(with_gpus).unavailable_reason()
    assert reason is not None and "ml-infn/no-gpu-image:0" in reason


def test_an_engine_that_does_not_answer_is_named_with_the_command_that_starts_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:  # undone before the leftover check asks the real engine
        patched.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
        reason = docker_backend.Backend(make_config(tmp_path)).unavailable_reason()
    assert reason is not None
    assert "no Docker engine answers" in reason
    assert "start-dockerd.sh" in reason


def test_remove_leftovers_removes_only_containers_past_their_expiry(tmp_path: Path) -> None:
    """A container a dead worker left goes once it has surely outlived its job; a live job's container stays."""
    backend = docker_backend.Backend(make_config(tmp_path))
    client = backend.client()
    now = int(time.time())
    try:
        for name, expires in (("expired", now - 1), ("live", now + 3600), ("unlabelled", None)):
            labels = {docker_backend.LABEL: f"left-by-test-{name}"}
            if expires is not None:
                labels[docker_backend.EXPIRES_LABEL] = str(expires)
            client.containers.create(
                backend.image_for("cpu"), ["true"], labels=labels, network_mode="none", name=f"ml-infn-test-{name}"
            )
    finally:
        client.close()
    try:
        assert backend.remove_leftovers() == ["ml-infn-test-expired"]
        assert sorted(job_containers()) == ["ml-infn-test-live", "ml-infn-test-unlabelled"]
    finally:
        assert sorted(backend.remove_leftovers(every=True)) == ["ml-infn-test-live", "ml-infn-test-unlabelled"]
    assert job_containers() == []


def test_a_job_container_is_labelled_with_when_it_has_outlived_its_job(tmp_path: Path) -> None:
    backend = docker_backend.Backend(make_config(tmp_path))
    job = Job(output_dir=tmp_path, command=("true",), limits=Limits(wall_seconds=120))
    labels = backend.container_options(job, backend.image_for("cpu"), "job-id", None)["labels"]
    expires = int(labels[docker_backend.EXPIRES_LABEL]) - time.time()
    assert 120 + docker_backend.LEFTOVER_MARGIN_S - 5 < expires <= 120 + docker_backend.LEFTOVER_MARGIN_S
