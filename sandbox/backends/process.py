"""The unsandboxed backend: the runner as a plain subprocess with rlimits, for a laptop with neither Docker nor bwrap.

It isolates nothing: the job can read every file the worker can, use the network and see other processes. It
exists so a developer can try the platform; it must be switched on by name (`allow_process_backend`) and it
says so loudly every time it runs. Limits: a child cgroup when the host allows one, otherwise rlimits per
process (RLIMIT_NPROC does not bind root). Processes left behind are killed with the job's session and cgroup;
without a cgroup a daemon that calls setsid() escapes.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from sandbox.backends import base, local
from sandbox.gpus import GpuLeases, NoFreeGpu, visible_devices_env
from sandbox.jobs import GpuDevice, Job, Result

log = logging.getLogger(__name__)


class Backend(base.Backend):
    """Run jobs as plain subprocesses of the worker."""

    name = "process"
    strength = 1

    def unavailable_reason(self) -> str | None:
        if not self.config.allow_process_backend:
            return "The process backend isolates nothing; switch it on with allow_process_backend=True."
        return None

    def run(self, job: Job) -> Result:
        started = time.monotonic()
        log.warning("Running a job with the UNSANDBOXED process backend: it can read and change this host.")
        python = local.interpreter_for(job, self.config.runtime_python)
        if python is None:
            return local.infrastructure(f"no interpreter configured for runtime {job.runtime!r}", self.name)
        if not job.gpu:
            return self._run(job, python, started, None)
        leases = GpuLeases(self.config.gpus, self.config.state_dir, self.config.lease_seconds)
        try:
            lease = leases.acquire(self.config.gpu_wait_seconds)
        except NoFreeGpu as exc:
            return local.infrastructure(str(exc), self.name)
        try:
            return self._run(job, python, started, lease.device)
        finally:
            lease.release()

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        """Remove the empty control groups of jobs whose worker was killed mid-run; return their paths.

        The jobs themselves die with their worker (bwrap's --die-with-parent, the session's kill); their groups do
        not. Only empty groups of workers that are gone are removed, so `every` changes nothing here.
        """
        return local.remove_leftover_cgroups()

    def _run(self, job: Job, python: Path, started: float, device: GpuDevice | None) -> Result:
        local.prepare_output(job.output_dir, None)
        scratch_root = Path(self.config.state_dir) / "process"
        scratch_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="job-", dir=scratch_root) as scratch:
            workdir = Path(scratch) / "work"
            workdir.mkdir()
            home = Path(scratch) / "home"
            home.mkdir()
            for mount in job.mounts:
                (workdir / mount.name).symlink_to(mount.source.absolute())
            (workdir / "output").symlink_to(job.output_dir.absolute())
            notebook_name = None
            if job.notebook is not None:
                notebook_name = "submission.ipynb" if job.notebook.name == "output" else job.notebook.name
                shutil.copyfile(job.notebook, workdir / notebook_name)
            read_fd, write_fd = os.pipe()
            argv = [str(python), "-s", "-m", "sandbox.runner", *local.runner_args(job, write_fd, notebook_name)]
            env = local.job_env(
                job,
                str(home),
                {"PYTHONPATH": local.python_path_for_runner(), "TMPDIR": str(home), **visible_devices_env(device)},
                runtime_bin=Path(python).absolute().parent,
            )
            with local.job_cgroup(job.limits) as cgroup:
                launch = local.Launch(
                    argv=[*local.rlimit_args(job.limits, with_cgroup=cgroup is not None), *argv],
                    limits=job.limits,
                    output_dir=job.output_dir,
                    env=env,
                    cwd=workdir,
                    cgroup=cgroup,
                )
                local.run_launch(launch, (read_fd, write_fd))
                return local.judge(launch, self.name, time.monotonic() - started, device.id if device else None)
