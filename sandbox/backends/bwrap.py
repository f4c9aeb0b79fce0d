"""The bubblewrap backend: each job in fresh namespaces with only the runtime, its inputs and output/ visible.

The job sees: /usr and the /lib, /bin links; a few files of /etc; the runtime's interpreter prefix and venv
(read-only, at their host paths); the `sandbox` package at /opt/sandbox-runner (read-only, for the runner);
/job with each mount read-only, the notebook read-only and output/ writable; a bounded private /tmp and
/dev/shm. Never the repository, var/, the worker's home or its environment.

Namespaces: all of them (net, pid, ipc, uts, cgroup; user when not root). When the worker is root, bwrap runs
without a user namespace and the job drops to uid 65534 with `setpriv` (no capabilities, no_new_privs), so
RLIMIT_NPROC binds and a breakout lands on nobody. Otherwise bwrap makes a user namespace as the worker's
uid. Limits: a child cgroup when the host allows one (memory with no swap, pids, CPU), otherwise rlimits.
Processes never outlive the job: bwrap's init is PID 1 of the job's PID namespace and dies with the job (and
`--die-with-parent`), which takes every process in it along; the cgroup is emptied too.

With `warm_pool_size > 0`, notebook jobs run in sandboxes of the warm pool (`sandbox.warm`), started before
the job with the kernel up and the runtime's heavy imports done; jobs that do not fit one run cold.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from sandbox import warm
from sandbox.backends import base, host
from sandbox.gpus import device_nodes, visible_devices_env
from sandbox.jobs import GpuDevice, Job, Result

RUNNER_ROOT = "/opt/sandbox-runner"
WORKDIR = "/job"
# These paths are inside the sandbox, on its own private tmpfs, not the host's shared /tmp.
TMP = "/tmp"  # noqa: S108
SHM = "/dev/shm"  # noqa: S108
HOME = f"{TMP}/home"
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/fonts",
    "/etc/mime.types",
    "/etc/alternatives",
)
PASSWD = "participant:x:{uid}:{gid}:participant:" + HOME + ":/bin/sh\n"  # noqa: S105 - no password
GROUP = "participant:x:{gid}:\n"


class Backend(base.Backend):
    """Run jobs under bubblewrap on this host."""

    name = "bwrap"
    strength = 20

    def unavailable_reason(self) -> str | None:
        if shutil.which("bwrap") is None:
            return "bubblewrap is not installed (Debian: apt-get install -y bubblewrap)."
        try:
            probe = subprocess.run(
                ["bwrap", *self.namespace_args(), "--ro-bind", "/", "/", "--", "/bin/true"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap could not start: {exc}."
        if probe.returncode != 0:
            return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:300]}"
        return None

    def namespace_args(self) -> list[str]:
        if host.may_drop_privileges():
            # As root bwrap would map root into a user namespace; we want a real unprivileged uid instead.
            return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        return ["--unshare-all", "--disable-userns"]

    def run(self, job: Job) -> Result:
        started = time.monotonic()
        python = host.interpreter_for(job, self.config.runtime_python)
        if python is None:
            return base.infrastructure(f"no interpreter configured for runtime {job.runtime!r}", self.name)
        pool = None if job.gpu else self.warm_pool  # a GPU job takes a lease first and starts cold
        if pool is not None:
            result = pool.run(job, python, started)
            if result is not None:
                return result
        return self.run_leased(job, lambda device: self._run(job, python, started, device))

    @property
    def warm_pool(self) -> warm.WarmPool | None:
        """Return this configuration's warm pool (shared by every instance in the process), or None if off."""
        if self.config.warm_pool_size <= 0:
            return None
        return warm.shared_pool(self, lambda: warm.WarmPool(self))

    def close(self) -> None:
        if self.config.warm_pool_size > 0:
            warm.close_pool(self)

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        """Remove the empty control groups of jobs whose worker was killed mid-run; return their paths.

        The jobs themselves die with their worker (bwrap's --die-with-parent, the session's kill); their groups do
        not. Only empty groups of workers that are gone are removed, so `every` changes nothing here.
        """
        return host.remove_leftover_cgroups()

    def _run(self, job: Job, python: Path, started: float, device: GpuDevice | None) -> Result:
        try:
            runtime = host.inspect_runtime(python)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            return base.infrastructure(f"the runtime interpreter {python} does not work: {exc}", self.name)
        drop = host.may_drop_privileges()
        host.prepare_output(job.output_dir, host.NOBODY if drop else None)
        notebook_name = base.notebook_name_for(job)
        with tempfile.TemporaryDirectory(prefix="bwrap-", dir=self.scratch()) as scratch:
            read_fd, write_fd = os.pipe()
            argv = self.command(job, runtime, Path(scratch), notebook_name, write_fd, device, drop)
            with host.job_cgroup(job.limits) as cgroup:
                launch = host.Launch(
                    argv=argv,
                    limits=job.limits,
                    output_dir=job.output_dir,
                    env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
                    cgroup=cgroup,
                )
                host.run_launch(launch, (read_fd, write_fd))
                return host.judge(launch, self.name, time.monotonic() - started, device.id if device else None)

    def scratch(self) -> Path:
        folder = Path(self.config.state_dir) / "bwrap"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def command(
        self,
        job: Job,
        runtime: host.Runtime,
        scratch: Path,
        notebook_name: str | None,
        report_fd: int,
        device: GpuDevice | None,
        drop: bool,
        workdir_source: Path | None = None,
        extra_args: list[str] | None = None,
    ) -> list[str]:
        """Build the whole command line: rlimits, bwrap with its binds, privilege drop, then the runner."""
        uid = host.NOBODY if drop else os.getuid()
        gid = host.NOBODY if drop else os.getgid()
        (scratch / "passwd").write_text(PASSWD.format(uid=uid, gid=gid))
        (scratch / "group").write_text(GROUP.format(gid=gid))
        for name in ("passwd", "group"):
            os.chmod(scratch / name, 0o644)
        args = ["bwrap", *self.namespace_args(), "--die-with-parent", "--new-session"]
        made: set[str] = {"/"}

        def ensure_parents(dest: str) -> None:
            # bwrap makes missing parents 0700, which the unprivileged job could not cross.
            parts = Path(dest).parents
            for parent in reversed(list(parts)):
                p = str(parent)
                if p not in made:
                    made.add(p)
                    args.extend(["--perms", "0755", "--dir", p])

        def bind(kind: str, src: Path | str, dest: str) -> None:
            ensure_parents(dest)
            made.add(dest)
            args.extend([kind, str(src), dest])

        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                args.extend(["--symlink", os.readlink(top), top])
            elif os.path.isdir(top):
                bind("--ro-bind", top, top)
        bind("--ro-bind", "/usr", "/usr")
        for path in ETC_FILES:
            if os.path.exists(path):
                bind("--ro-bind", path, path)
        bind("--ro-bind", scratch / "passwd", "/etc/passwd")
        bind("--ro-bind", scratch / "group", "/etc/group")
        # The private /tmp comes before the runtime's binds: a checkout under /tmp (as CI's may be) would
        # otherwise have its virtualenv hidden under the fresh tmpfs.
        args.extend(["--proc", "/proc", "--dev", "/dev"])
        made.update({"/proc", "/dev"})
        args.extend(["--perms", "1777", "--size", str(job.limits.disk_bytes), "--tmpfs", TMP])
        args.extend(["--perms", "1777", "--size", str(job.limits.disk_bytes), "--tmpfs", SHM])
        made.update({TMP, SHM})
        for prefix in sorted({runtime.base_prefix, runtime.prefix}, key=lambda p: len(str(p))):
            if not str(prefix).startswith("/usr/"):
                bind("--ro-bind", prefix, str(prefix))
        bind("--ro-bind", base.SANDBOX_PACKAGE, f"{RUNNER_ROOT}/sandbox")
        args.extend(["--perms", "1777", "--dir", HOME])
        if workdir_source is not None:
            bind("--ro-bind", workdir_source, WORKDIR)  # the warm pool's staging folder
        else:
            ensure_parents(WORKDIR)
            args.extend(["--perms", "0755", "--dir", WORKDIR])
            made.add(WORKDIR)
            for mount in job.mounts:
                bind("--ro-bind", mount.source, f"{WORKDIR}/{mount.name}")
            if job.notebook is not None and notebook_name is not None:
                bind("--ro-bind", job.notebook, f"{WORKDIR}/{notebook_name}")
        bind("--bind", job.output_dir, f"{WORKDIR}/output")
        if device is not None:
            for node in device_nodes(device):
                args.extend(["--dev-bind", str(node), str(node)])
        args.extend(["--chdir", WORKDIR, "--clearenv"])
        env = base.job_env(
            job,
            HOME,
            {"PYTHONPATH": RUNNER_ROOT, **visible_devices_env(device)},
            runtime_bin=runtime.executable.parent,
        )
        for key, value in env.items():
            args.extend(["--setenv", key, value])
        if drop:
            args.extend(["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"])
            args.extend(["--", "setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"])
            args.extend(["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"])
        args.extend(["--", str(runtime.executable), "-s", "-m", "sandbox.runner"])
        args.extend(extra_args if extra_args is not None else host.runner_args(job, report_fd, notebook_name))
        return [*host.rlimit_args(job.limits, with_cgroup=self._cgroups_likely()), *args]

    def _cgroups_likely(self) -> bool:
        # rlimits for memory and processes are only needed when no cgroup enforces them; decided per run in
        # run_launch, but the command is built first, so probe once.
        if not hasattr(self, "_cgroup_probe"):
            from sandbox.cgroups import JobCgroup
            from sandbox.jobs import Limits

            group = JobCgroup.create(Limits())
            self._cgroup_probe = group is not None
            if group is not None:
                group.remove()
        return self._cgroup_probe
