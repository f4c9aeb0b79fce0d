"""The one interface every sandbox backend implements, and what all of them share: GPU leases, names, results."""

from __future__ import annotations

import abc
import contextlib
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from sandbox.gpus import GpuLeases, NoFreeGpu
from sandbox.jobs import GpuDevice, Job, Outcome, Result, SandboxConfig
from sandbox.runner import MESSAGES

SANDBOX_PACKAGE = Path(__file__).resolve().parent.parent  # the `sandbox` folder, shown to the job for the runner
WALL_GRACE_S = 10.0  # the runner enforces the wall clock itself; this is the backstop if it cannot
REPORT_MAX_BYTES = 64 * 1024 * 1024
DIAGNOSTIC_BYTES = 16 * 1024
# The notebook's name inside /job must not be a mount's, output/, or a place a backend keeps for itself
# (docker and kubernetes keep /job/.tmp and /job/.home); any hidden name is refused too, so a notebook never
# lands among a backend's own dot-folders, whichever backend runs it.
DEFAULT_NOTEBOOK_NAME = "submission.ipynb"
RESERVED_NAMES = frozenset({"output", ".tmp", ".home"})


class Backend(abc.ABC):
    """Run jobs in one kind of isolation. Subclasses live in `sandbox/backends/<name>.py` as `Backend`."""

    name: str = ""
    strength: int = 0  # higher isolates better; the default backend is the strongest available

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config

    @abc.abstractmethod
    def unavailable_reason(self) -> str | None:
        """Return why this backend cannot run here, or None when it can."""

    @abc.abstractmethod
    def run(self, job: Job) -> Result:
        """Run the job to its end within its limits; never raise for anything the job did."""

    def close(self) -> None:  # noqa: B027 - an optional hook, not a duty of every backend
        """Stop whatever the backend keeps running between jobs (a warm pool); the default keeps nothing."""

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        """Remove sandboxes that dead workers left running and that have outlived any job (`every`: all of them).

        Return their names. The default has nothing to remove: bwrap and process jobs die with their worker.
        """
        return []

    @contextlib.contextmanager
    def gpu_for(self, job: Job) -> Iterator[GpuDevice | None]:
        """Hold one of this worker's GPUs for the block when the job needs one; yield it (None for a CPU job).

        The lease is released however the block ends. Raise `NoFreeGpu` when none frees up within the
        configuration's `gpu_wait_seconds`.
        """
        if not job.gpu:
            yield None
            return
        leases = GpuLeases(self.config.gpus, self.config.state_dir, self.config.lease_seconds)
        lease = leases.acquire(self.config.gpu_wait_seconds)
        try:
            yield lease.device
        finally:
            lease.release()

    def run_leased(self, job: Job, run: Callable[[GpuDevice | None], Result]) -> Result:
        """Call `run` with the job's GPU (or None) held for its whole run; `infrastructure` when none is free."""
        try:
            with self.gpu_for(job) as device:
                return run(device)
        except NoFreeGpu as exc:
            return infrastructure(str(exc), self.name)


def notebook_name_for(job: Job) -> str | None:
    """Name the notebook inside /job: its own file name unless a mount, a reserved or a hidden name is in the way.

    Return None for a command job (no notebook); `submission.ipynb` in place of a name that cannot be used.
    """
    if job.notebook is None:
        return None
    name = job.notebook.name
    if name in {m.name for m in job.mounts} or name in RESERVED_NAMES or name.startswith("."):
        return DEFAULT_NOTEBOOK_NAME
    return name


def job_env(
    job: Job,
    home: str,
    extra: Mapping[str, str] = {},  # noqa: B006 - read only
    *,
    runtime_bin: Path | None = None,
) -> dict[str, str]:
    """Build the job's whole environment: nothing of the worker's, only what a notebook needs.

    The runtime's own bin folder comes first on PATH, so `python` in a command job is the runtime's
    interpreter with its packages, not whatever the host has in /usr/bin.
    """
    system_path = "/usr/local/bin:/usr/bin:/bin"
    # BLAS, OpenMP and TensorFlow's op pool otherwise start a thread per core of the host, all runnable within the
    # job's CPU quota: slower for the job, and a swarm the process watch would take for a spinning bomb
    # (host.RunnableRule).
    threads = str(max(1, math.ceil(job.limits.cpus)))
    env = {
        "HOME": home,
        "PATH": f"{runtime_bin}:{system_path}" if runtime_bin else system_path,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "TF_NUM_INTRAOP_THREADS": threads,
    }
    env.update(extra)
    env.update(job.env)
    return env


def infrastructure(message: str, backend: str) -> Result:
    """Return a result for a sandbox that could not even start."""
    return Result(
        outcome=Outcome.INFRASTRUCTURE,
        duration_s=0.0,
        message=f"{MESSAGES[Outcome.INFRASTRUCTURE]} ({message})",
        backend=backend,
    )
