"""GPU leases are exclusive, released when the job ends, and dropped when the holding process dies."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from sandbox import Job, Outcome, run_job
from sandbox.gpus import GpuLeases, NoFreeGpu, parse_inventory
from sandbox.jobs import GpuDevice
from tests.builders.notebooks import write_notebook
from tests.builders.sandbox_jobs import make_config

TWO = (GpuDevice(id="GPU-aaa", model="T4", index=0), GpuDevice(id="MIG-bbb", model="A100 MIG 1g.10gb"))


def hold_lease(state_dir: str, ready: multiprocessing.synchronize.Event) -> None:
    leases = GpuLeases(TWO[:1], Path(state_dir), 3600)
    leases.acquire(1)
    ready.set()
    time.sleep(600)


def test_an_inventory_string_lists_whole_gpus_and_mig_slices() -> None:
    devices = parse_inventory("T4:GPU-uuid1,T4:GPU-uuid2@1, A100 MIG 1g.10gb:MIG-uuid3")
    assert devices == (
        GpuDevice(id="GPU-uuid1", model="T4"),
        GpuDevice(id="GPU-uuid2", model="T4", index=1),
        GpuDevice(id="MIG-uuid3", model="A100 MIG 1g.10gb"),
    )
    assert parse_inventory('[{"model": "A30", "id": "GPU-x", "index": 2}]') == (GpuDevice("GPU-x", "A30", 2),)
    with pytest.raises(ValueError, match="MODEL:ID"):
        parse_inventory("T4")


def test_two_leases_never_share_a_device_and_a_released_one_is_free_again(tmp_path: Path) -> None:
    leases = GpuLeases(TWO, tmp_path, 3600)
    first = leases.acquire(1)
    second = leases.acquire(1)
    assert {first.device.id, second.device.id} == {"GPU-aaa", "MIG-bbb"}
    with pytest.raises(NoFreeGpu):
        leases.acquire(0.3)
    first.release()
    assert leases.acquire(1).device == first.device


def test_a_lease_held_by_another_process_is_exclusive_until_that_process_is_killed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=hold_lease, args=(str(tmp_path), ready))
    holder.start()
    try:
        assert ready.wait(10)
        leases = GpuLeases(TWO[:1], tmp_path, 3600)
        assert leases.try_acquire() is None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(10)
        lease = leases.acquire(5)
        assert lease.device.id == "GPU-aaa"
    finally:
        if holder.is_alive():
            holder.kill()


def test_a_lease_held_past_its_end_is_broken(tmp_path: Path) -> None:
    stale = GpuLeases(TWO[:1], tmp_path, 0.2).acquire(1)
    time.sleep(0.4)
    fresh = GpuLeases(TWO[:1], tmp_path, 3600).acquire(2)
    assert fresh.device == stale.device


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["bwrap", "process"])
def test_a_gpu_job_sees_only_its_device_and_waits_then_gives_up_when_all_are_busy(tmp_path: Path, backend: str) -> None:
    config = make_config(tmp_path, gpus=TWO[:1], gpu_wait_seconds=0.5)
    cell = "import os; open('output/seen.txt', 'w').write(os.environ['CUDA_VISIBLE_DEVICES'])"
    job = Job(output_dir=tmp_path / "out", notebook=write_notebook(tmp_path / "n.ipynb", cell), gpu=True)
    result = run_job(job, config, backend)
    if backend == "bwrap" and result.outcome is Outcome.INFRASTRUCTURE and "bubblewrap" in result.message:
        pytest.skip(f"bwrap cannot run here: {result.message}")
    assert result.outcome is Outcome.OK, result.message
    assert result.gpu_device == "GPU-aaa"
    assert (tmp_path / "out" / "seen.txt").read_text() == "GPU-aaa"
    held = GpuLeases(config.gpus, config.state_dir, 3600).acquire(1)
    try:
        busy = run_job(job, config, backend)
    finally:
        held.release()
    assert busy.outcome is Outcome.INFRASTRUCTURE
    assert "busy" in busy.message
