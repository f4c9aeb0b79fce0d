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

from sandbox.backends import base, host
from sandbox.gpus import visible_devices_env
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
        python = host.interpreter_for(job, self.config.runtime_python)
        if python is None:
            return base.infrastructure(f"no interpreter configured for runtime {job.runtime!r}", self.name)
        return self.run_leased(job, lambda device: self._run(job, python, started, device))

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        """Remove the empty control groups of jobs whose worker was killed mid-run; return their paths.

        The jobs themselves die with their worker (bwrap's --die-with-parent, the session's kill); their groups do
        not. Only empty groups of workers that are gone are removed, so `every` changes nothing here.
        """
        return host.remove_leftover_cgroups()

    def _run(self, job: Job, python: Path, started: float, device: GpuDevice | None) -> Result:
        host.prepare_output(job.output_dir, None)
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
            notebook_name = base.notebook_name_for(job)
            if job.notebook is not None and notebook_name is not None:
                shutil.copyfile(job.notebook, workdir / notebook_name)
            read_fd, write_fd = os.pipe()
            argv = [str(python), "-s", "-m", "sandbox.runner", *host.runner_args(job, write_fd, notebook_name)]
            env = base.job_env(
                job,
                str(home),
                {"PYTHONPATH": host.python_path_for_runner(), "TMPDIR": str(home), **visible_devices_env(device)},
                runtime_bin=Path(python).absolute().parent,
            )
            with host.job_cgroup(job.limits) as cgroup:
                launch = host.Launch(
                    argv=[*host.rlimit_args(job.limits, with_cgroup=cgroup is not None), *argv],
                    limits=job.limits,
                    output_dir=job.output_dir,
                    env=env,
                    cwd=workdir,
                    cgroup=cgroup,
                )
                host.run_launch(launch, (read_fd, write_fd))
                return host.judge(launch, self.name, time.monotonic() - started, device.id if device else None)
