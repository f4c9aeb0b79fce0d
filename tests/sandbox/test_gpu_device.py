"""On a machine with an NVIDIA GPU, a sandboxed job sees exactly the device it leased, and a CPU job sees none.

Also issue 22's rules on a GPU: a torch notebook keeps to the job's CPU count of threads and is not taken for a
spinning bomb (host.RunnableRule), and a GPU job starts cold even when the warm pool holds a sandbox of its runtime.
Self-contained (no Django, no tests.builders), so a copy of this file can run on a lent machine on its own.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox import GpuDevice, Job, Limits, Outcome, SandboxConfig, get_backend
from sandbox.backends import host
from sandbox.backends.bwrap import Backend as Bwrap
from sandbox.cgroups import JobCgroup
from sandbox.warm import fits

PROBE = """
import glob, os, subprocess
print("NODES", sorted(os.path.basename(p) for p in glob.glob("/dev/nvidia[0-9]*")))
print("VISIBLE", os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get("NVIDIA_VISIBLE_DEVICES"))
try:
    print("SMI", subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60).stdout.strip())
except Exception as error:
    print("SMI failed:", type(error).__name__)
try:
    import torch
    print("TORCH", torch.cuda.device_count(), torch.cuda.is_available() and torch.cuda.get_device_name(0))
except ImportError:
    print("TORCH absent")  # a runtime without torch: the device checks above still hold
"""


def host_gpus() -> list[GpuDevice]:
    if shutil.which("nvidia-smi") is None:
        return []
    listed = subprocess.run(
        ["nvidia-smi", "--query-gpu=index,uuid,name", "--format=csv,noheader"], capture_output=True, text=True
    )
    devices = []
    for line in listed.stdout.strip().splitlines():
        index, uuid, name = (part.strip() for part in line.split(","))
        devices.append(GpuDevice(id=uuid, model=name, index=int(index)))
    return devices


GPUS = host_gpus()
pytestmark = pytest.mark.skipif(not GPUS, reason="no NVIDIA GPU on this machine (checked on a lent GPU machine)")


def run_probe(tmp_path: Path, backend_name: str, *, gpu: bool) -> str:
    config = SandboxConfig(
        state_dir=tmp_path / "state",
        runtime_python={"gpu": Path(sys.executable), "cpu": Path(sys.executable)},
        gpus=tuple(GPUS),
        allow_process_backend=True,
    )
    backend = get_backend(backend_name, config)
    if reason := backend.unavailable_reason():
        pytest.skip(f"{backend_name} cannot run here: {reason}")
    output = tmp_path / ("gpu" if gpu else "cpu")
    output.mkdir()
    job = Job(
        output_dir=output,
        command=("python3", "-c", PROBE),
        gpu=gpu,
        runtime="gpu" if gpu else "cpu",
        limits=Limits(wall_seconds=180, memory_bytes=16 * 2**30, processes=512),
    )
    result = backend.run(job)
    print(backend_name, "gpu" if gpu else "cpu", result.outcome, result.gpu_device, "\n", result.log)
    assert result.ok, result.message + result.log
    return result.log


@pytest.mark.parametrize("backend_name", ["bwrap", "process"])
def test_a_gpu_job_sees_exactly_its_leased_device(tmp_path, backend_name):
    log = run_probe(tmp_path, backend_name, gpu=True)
    leased = GPUS[0]
    listed = [line for line in log.splitlines() if line.startswith(("SMI GPU", "GPU "))]
    assert len(listed) == 1 and leased.id in listed[0], log
    assert f"NODES ['nvidia{leased.index}']" in log
    assert "TORCH 1 " in log, "the runtime's torch should see one device"


@pytest.mark.parametrize("backend_name", ["bwrap"])
def test_a_cpu_job_sees_no_gpu(tmp_path, backend_name):
    log = run_probe(tmp_path, backend_name, gpu=False)
    assert "NODES []" in log
    assert "TORCH 0 " in log


def test_a_gpu_notebook_computes_on_its_leased_device_through_the_kernel(tmp_path):
    """A notebook job (runner, kernel and nbclient, as grading runs it) on bwrap with a leased GPU."""
    import nbformat

    config = SandboxConfig(state_dir=tmp_path / "state", runtime_python={"gpu": Path(sys.executable)}, gpus=tuple(GPUS))
    backend = get_backend("bwrap", config)
    if reason := backend.unavailable_reason():
        pytest.skip(f"bwrap cannot run here: {reason}")
    cell = (
        "import torch\n"
        "x = torch.ones(1024, 1024, device='cuda')\n"
        "print('GPU NOTEBOOK', torch.cuda.device_count(), torch.cuda.get_device_name(0), (x @ x).sum().item())\n"
    )
    notebook = tmp_path / "gpu.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)]), notebook)
    (tmp_path / "output").mkdir()
    job = Job(
        output_dir=tmp_path / "output",
        notebook=notebook,
        gpu=True,
        runtime="gpu",
        limits=Limits(wall_seconds=300, memory_bytes=16 * 2**30, processes=512),
    )
    result = backend.run(job)
    print("bwrap notebook gpu", result.outcome, result.gpu_device, f"{result.duration_s:.1f} s\n", result.log)
    assert result.ok, result.message + result.log
    assert result.gpu_device == GPUS[0].id
    assert f"GPU NOTEBOOK 1 {GPUS[0].model} {float(1024**3)}" in result.log


def write_notebook(path: Path, *cells: str) -> Path:
    """Write a notebook of these code cells (nbformat is imported here: the runtime has it, not every host)."""
    import nbformat

    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells]), path)
    return path


def bwrap_backend(tmp_path: Path, **overrides: Any) -> Bwrap:
    """A bwrap backend whose `gpu` runtime is this interpreter, with the host's GPUs; skip where bwrap cannot run."""
    config = SandboxConfig(
        state_dir=tmp_path / "state", runtime_python={"gpu": Path(sys.executable)}, gpus=tuple(GPUS), **overrides
    )
    backend = Bwrap(config)
    if reason := backend.unavailable_reason():
        pytest.skip(f"bwrap cannot run here: {reason}")
    return backend


# Torch at its default thread count (none set in the cell) multiplies on the CPU and on the GPU for five seconds,
# then says how many threads its intra-op pool has, what OMP_NUM_THREADS the job was given, and how many threads
# the kernel's process holds.
TORCH_THREADS = """
import os, time, torch
threads = torch.get_num_threads()
gpu, cpu = torch.randn(4096, 4096, device='cuda'), torch.randn(1024, 1024)
products, end = 0, time.monotonic() + 5
while time.monotonic() < end:
    (gpu @ gpu).sum().item()  # waits for the GPU
    (cpu @ cpu).sum().item()  # in torch's intra-op pool
    products += 1
tasks = len(os.listdir('/proc/self/task'))
print('TORCH THREADS', threads, os.environ.get('OMP_NUM_THREADS'), tasks, os.cpu_count(), products)
"""


@pytest.mark.parametrize("cpus", [1.0, 2.0])
def test_a_gpu_notebook_keeps_torch_to_the_job_s_cpus_and_ends_ok_under_the_runnable_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpus: float
) -> None:
    """On a host of many cores torch would start a thread per core; the job's environment holds it to its CPUs."""
    probe = JobCgroup.create(Limits())
    watched = probe is not None  # without a control group there is no process watch, only rlimits
    if probe is not None:
        probe.remove()
    readings: list[tuple[int, int | None]] = []  # (tasks, runnable threads) at each look of the process watch
    original = JobCgroup.processes_and_limit

    def recorded(self: JobCgroup) -> tuple[int, int] | None:
        counts = original(self)
        if counts is not None:
            readings.append((counts[0], self.runnable_threads()))
        return counts

    monkeypatch.setattr(JobCgroup, "processes_and_limit", recorded)
    backend = bwrap_backend(tmp_path)
    limits = Limits(wall_seconds=300, memory_bytes=16 * 2**30, processes=512, cpus=cpus)
    job = Job(
        output_dir=tmp_path / "output",
        notebook=write_notebook(tmp_path / "threads.ipynb", TORCH_THREADS),
        gpu=True,
        runtime="gpu",
        limits=limits,
    )
    result = backend.run(job)
    rule = host.RunnableRule(cpus)
    most_tasks = max((tasks for tasks, _ in readings), default=None)
    most_runnable = max((r for _, r in readings if r is not None), default=None)
    print(
        f"bwrap notebook gpu cpus={cpus}",
        result.outcome,
        f"{result.duration_s:.1f} s, watched={watched}, looks={len(readings)}, most tasks={most_tasks},",
        f"most runnable={most_runnable}, rule limit={rule.limit}\n",
        result.log,
    )
    assert result.outcome is Outcome.OK, result.message + result.log  # not `processes`: no bomb was seen
    assert result.gpu_device == GPUS[0].id
    seen = re.search(r"TORCH THREADS (\d+) (\S+) (\d+) (\d+) (\d+)", result.log)
    assert seen, result.log
    expected = math.ceil(cpus)
    assert int(seen[1]) == expected, f"torch runs {seen[1]} threads in a job of {cpus} CPUs"
    assert seen[2] == str(expected)
    assert int(seen[5]) > 0
    if watched:
        assert readings, "the job had a control group, so the process watch should have looked at it"


def test_a_gpu_job_starts_cold_even_when_the_pool_holds_a_warm_sandbox_of_its_runtime(tmp_path: Path) -> None:
    """A GPU job takes its device lease first: it never runs in a sandbox warmed without a device."""
    backend = bwrap_backend(tmp_path, warm_pool_size=1, warm_imports={"gpu": ()})
    limits = Limits(wall_seconds=300, memory_bytes=16 * 2**30, processes=512)
    cell = (
        "import glob, os\n"
        "print('SAW', sorted(os.path.basename(p) for p in glob.glob('/dev/nvidia[0-9]*')),"
        " repr(os.environ.get('CUDA_VISIBLE_DEVICES')))\n"
    )
    gpu_job = Job(
        output_dir=tmp_path / "gpu-output",
        notebook=write_notebook(tmp_path / "gpu.ipynb", cell),
        gpu=True,
        runtime="gpu",
        limits=limits,
    )
    cpu_job = Job(
        output_dir=tmp_path / "cpu-output",
        notebook=write_notebook(tmp_path / "cpu.ipynb", cell),
        runtime="gpu",
        limits=limits,
    )
    pool = backend.warm_pool
    assert pool is not None
    try:
        pool.prepare("gpu", limits)
        assert pool.wait_ready("gpu", 120), "the warm sandbox for the gpu runtime never became ready"
        waiting = pool.idle[0]
        assert not fits(gpu_job) and fits(cpu_job)
        gpu_result = backend.run(gpu_job)
        print("bwrap warm pool, gpu job", gpu_result.outcome, gpu_result.warm, gpu_result.gpu_device, gpu_result.log)
        assert gpu_result.ok, gpu_result.message + gpu_result.log
        assert not gpu_result.warm
        assert gpu_result.gpu_device == GPUS[0].id
        assert f"SAW ['nvidia{GPUS[0].index}'] '{GPUS[0].id}'" in gpu_result.log
        assert waiting in pool.idle and waiting.alive(), "the GPU job must leave the warm sandbox for a CPU job"
        # The control: a CPU job of the same runtime and limits does take it, and sees no device there.
        cpu_result = backend.run(cpu_job)
        print("bwrap warm pool, cpu job", cpu_result.outcome, cpu_result.warm, cpu_result.gpu_device, cpu_result.log)
        assert cpu_result.ok, cpu_result.message + cpu_result.log
        assert cpu_result.warm
        assert cpu_result.gpu_device is None
        assert "SAW [] ''" in cpu_result.log  # warmed without a lease: no node, CUDA shown no device
        assert waiting not in pool.idle
    finally:
        backend.close()
