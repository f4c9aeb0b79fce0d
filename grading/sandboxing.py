"""The bridge from the site's settings to the plain sandbox package: its configuration and job limits."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from django.conf import settings

import sandbox
from exercises.models import Exercise
from sandbox.gpus import parse_inventory

MiB = 1024 * 1024
logger = logging.getLogger(__name__)


def sandbox_config() -> sandbox.SandboxConfig:
    """Return the sandbox configuration from the settings (cheap: built on each use, so tests can change it)."""
    runtime_python = Path(settings.SANDBOX_RUNTIME_PYTHON)
    if not runtime_python.exists():
        runtime_python = Path(sys.executable)
    return sandbox.SandboxConfig(
        state_dir=Path(settings.SANDBOX_STATE_DIR),
        runtime_python={"cpu": runtime_python, "gpu": runtime_python},
        docker_images={"cpu": settings.SANDBOX_DOCKER_IMAGE_CPU, "gpu": settings.SANDBOX_DOCKER_IMAGE_GPU},
        gpus=parse_inventory(settings.SANDBOX_GPUS) if settings.SANDBOX_GPUS else (),
        warm_pool_size=settings.SANDBOX_WARM_POOL,
        warm_imports={"cpu": ("numpy", "pandas", "sklearn"), "gpu": ("numpy", "pandas", "sklearn", "tensorflow")},
        allow_process_backend=settings.SANDBOX_ALLOW_PROCESS,
    )


def sandbox_backend(name: str | None = None) -> sandbox.Backend:
    """Return the backend named here or in SANDBOX_BACKEND, else the strongest one available."""
    return sandbox.get_backend(name or settings.SANDBOX_BACKEND or None, sandbox_config())


def job_limits(exercise: Exercise) -> sandbox.Limits:
    """Return the limits of one run of the exercise's notebook, from its manifest."""
    return sandbox.Limits(
        wall_seconds=float(exercise.wall_seconds),
        cell_seconds=float(exercise.wall_seconds),
        memory_bytes=exercise.memory_mb * MiB,
        processes=exercise.processes,
        cpus=exercise.cpus,
    )


def needs_gpu(exercise: Exercise) -> bool:
    """A GPU-bound exercise takes a GPU lease; a GPU-preferred one takes one when this worker has GPUs."""
    return exercise.device == Exercise.Device.GPU or (exercise.gpu_preferred and bool(sandbox_config().gpus))


def remove_leftover_sandboxes() -> list[str]:
    """Remove the sandboxes that outlived their job (beat runs this every ten minutes); return their names.

    A worker killed in the middle of a job cannot remove that job's container, which keeps its memory, nor (bwrap,
    process) its control groups. Each container knows when it has surely outlived its job (sandbox.backends.docker)
    and each group which worker made it (sandbox.cgroups), so no running job is touched.
    """
    backend = sandbox_backend()
    if backend.unavailable_reason() is not None:
        return []
    removed = backend.remove_leftovers()
    if removed:
        logger.warning("Removed %d sandboxes left by dead workers: %s", len(removed), ", ".join(removed))
    return removed
