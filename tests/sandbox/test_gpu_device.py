"""On a machine with an NVIDIA GPU, a sandboxed job sees exactly the device it leased, and a CPU job sees none."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import GpuDevice, Job, Limits, SandboxConfig, get_backend

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
