"""Run one untrusted notebook or command in isolation and report what happened (no Django here)."""

from __future__ import annotations

from sandbox.backends import get_backend
from sandbox.backends.base import Backend
from sandbox.jobs import ClusterOptions, GpuDevice, Job, Limits, Mount, Outcome, Result, SandboxConfig


def run_job(job: Job, config: SandboxConfig, backend: Backend | str | None = None) -> Result:
    """Run the job on the given backend (an instance or a name), or on the strongest one available."""
    if not isinstance(backend, Backend):
        backend = get_backend(backend, config)
    reason = backend.unavailable_reason()
    if reason is not None:
        return Result(
            outcome=Outcome.INFRASTRUCTURE,
            duration_s=0.0,
            message=f"The sandbox cannot run jobs here: {reason}",
            backend=backend.name,
        )
    return backend.run(job)


__all__ = [
    "Backend",
    "ClusterOptions",
    "GpuDevice",
    "Job",
    "Limits",
    "Mount",
    "Outcome",
    "Result",
    "SandboxConfig",
    "get_backend",
    "run_job",
]
