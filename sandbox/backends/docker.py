"""The Docker backend: each job in a fresh, locked-down container of the exercise runtime image.

The container (image `ml-infn/runtime-<runtime>`, built offline by `deploy/sandbox/build-images.sh`) has no
network, no capabilities, no-new-privileges, a read-only root filesystem, runs as uid 10001, and is capped in
memory (swap held equal), processes, CPU and log size. Its only writable place is one tmpfs at /job of
`disk_bytes` holding `output/`, `.tmp/` (the image's /tmp points there) and `.home/`, so "disk" is output/ and
/tmp together and filling it fails with ENOSPC inside the job. Each mount is bound read-only at /job/<name>, the
notebook at /job/<its name>, and the host's `sandbox` package read-only at /opt/ml-infn/sandbox, so the runner
always matches the backend that reads its report (the image holds only the libraries).

The container's own process only sleeps, as another uid (10002) that the job can neither signal nor inspect.
The runner is started in it with `docker exec` and reports on the exec's stdout, a pipe the participant's
kernel cannot reach (the runner is non-dumpable). When the runner is done, every process of the job's uid is
killed, then output/ is streamed out of the still running container with `tar` (regular files and folders
only; the engine's archive API cannot see tmpfs mounts), then the container is removed, also on any
exception. Containers carry the label `ml-infn.sandbox`, and `ml-infn.sandbox.expires` saying when the job is
surely over, so that `remove_leftovers` removes any a dead worker left, and no live one.

tmpfs pages count against the container's memory cgroup, so its memory limit is `memory_bytes + disk_bytes`:
a job may use its whole memory and fill its disk, and no more. /dev/shm is a second tmpfs of `disk_bytes` (data
loaders pass batches through it, as on bwrap); what a job keeps there counts against that same memory limit.

With `warm_pool_size > 0`, CPU notebook jobs run in containers started before them (`ContainerPool`, at the end
of this module): made with the same options plus a read-only stage folder, their kernel warm, one job each.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox import warm
from sandbox.backends import base, host
from sandbox.cgroups import JOB_CPU_SHARES
from sandbox.jobs import GpuDevice, Job, Limits, Outcome, Result
from sandbox.runner import MESSAGES, limits_to_json, read_report
from sandbox.trees import remove_tree

log = logging.getLogger(__name__)

LABEL = "ml-infn.sandbox"  # every job container carries it; the value is the job's id
# When (Unix seconds) the container has surely outlived its job: the wall clock, the runner's own backstop and the
# copying out fit well within this margin. remove_leftovers() removes only containers past it.
EXPIRES_LABEL = "ml-infn.sandbox.expires"
LEFTOVER_MARGIN_S = 600
USER = "10001:10001"  # the image's `participant`, who runs the job; fixed here so an image cannot choose root
# The container's idle main process runs as another unprivileged uid, so the job can neither kill it (which
# would stop the container and lose output/) nor read its environment, and `kill -9 -1` as the job's uid
# ends every process of the job and nothing else.
KEEPER = "10002:10002"
WORKDIR = "/job"
HOME = f"{WORKDIR}/.home"
TMP = f"{WORKDIR}/.tmp"  # the image's /tmp is a symlink to it
RUNNER_ROOT = "/opt/ml-infn"
RUNTIME_PATH = "/opt/runtime/bin:/usr/local/bin:/usr/bin:/bin"
DEFAULT_IMAGE = "ml-infn/runtime-{runtime}:latest"
BUILD_COMMAND = "deploy/sandbox/build-images.sh"
START_COMMAND = "deploy/sandbox/start-dockerd.sh"
ENGINE_TIMEOUT_S = 30  # for each API call; a job's own wall clock is watched separately
WALL_GRACE_S = base.WALL_GRACE_S  # the runner enforces the wall clock; this is the backstop
SPARE_INODES = 1000  # .tmp and .home need a few files besides output/
LOG_MAX_SIZE = "1m"  # the container's own log: the job's output goes to the runner, not here
STOP_RETRIES = 5
# The warm pool's containers (ContainerPool): each has a host folder of its own bound read-only here, into which
# a job's inputs are hard-linked and its request written when it arrives (its binds were fixed at its creation).
POOL_STAGE = f"{WORKDIR}/.stage"
REQUEST_NAME = warm.REQUEST_NAME
POOL_LABEL = "ml-infn.sandbox.pool"  # on pool containers: the runtime they were warmed for
# An idle pool container is replaced after warm.POOL_IDLE_S, and stops by itself (its main process is a `sleep` of
# its lifetime) POOL_IDLE_S + its wall clock + LEFTOVER_MARGIN_S after its start: so a killed worker's warm
# containers free their memory and are removed by the periodic cleanup like any job container past its expiry.
# Inputs that cannot be hard-linked into its stage (the private data and the state folder are two mounts in
# deploy/compose.yaml) are copied up to warm.COPY_MAX_BYTES.
CAP_WATCH_INTERVAL_S = 1.0  # each look is a `docker exec`: cheaper than bwrap's file read, so less often
# The container's process count, cap and refusals (cgroup v1, then v2; only one set exists). Read with `cat`
# alone: at the cap a shell inside could not fork it.
# Counts the container's runnable threads with the shell's builtins only (a glob, `read`, arithmetic: no fork),
# for host.RunnableRule; the shell counts itself, one more than the job's.
RUNNABLE_SCRIPT = (
    'n=0; for f in /proc/[0-9]*/task/[0-9]*/stat; do read -r l < "$f" 2>/dev/null || continue; '
    's=${l##*) }; [ "${s%% *}" = R ] && n=$((n+1)); done; echo $n'
)
PIDS_FILES = (
    "/sys/fs/cgroup/pids/pids.current",
    "/sys/fs/cgroup/pids/pids.max",
    "/sys/fs/cgroup/pids/pids.events",
    "/sys/fs/cgroup/pids.current",
    "/sys/fs/cgroup/pids.max",
    "/sys/fs/cgroup/pids.events",
)


@dataclass(frozen=True)
class Measured:
    """What the engine and the job's cgroup say about a finished run: the host's view, not the job's."""

    oom_killed: bool
    hit_process_limit: bool
    peak_memory_bytes: int | None


class Backend(base.Backend):
    """Run jobs in Docker containers of the runtime images."""

    name = "docker"
    strength = 30

    def unavailable_reason(self) -> str | None:
        try:
            client = self.client()
        except ImportError:
            return "the docker Python package is not installed (pip install docker)."
        except Exception as exc:
            return f"no Docker engine answers ({first_line(exc)}); start one, e.g. with {START_COMMAND}."
        try:
            import docker.errors

            for runtime in self.needed_runtimes():
                image = self.image_for(runtime)
                try:
                    client.images.get(image)
                except docker.errors.ImageNotFound:
                    return f"the runtime image {image} is missing; build it with {BUILD_COMMAND}."
        except Exception as exc:
            return f"the Docker engine failed to answer ({first_line(exc)}); check that it runs."
        finally:
            client.close()
        return None

    def client(self) -> Any:
        """Connect to the engine named by DOCKER_HOST (or the local socket) and check that it answers."""
        import docker

        client = docker.from_env(version="auto", timeout=ENGINE_TIMEOUT_S)
        client.ping()
        return client

    def needed_runtimes(self) -> list[str]:
        """Return the runtimes whose images this worker needs: the GPU image only where it has GPUs.

        A CPU-only host builds no GPU image (deploy/sandbox/build-images.sh without --gpu); asking for it here
        refused every job of such a worker. A GPU job that still reaches it is refused with its image named.
        """
        runtimes = sorted(self.config.docker_images) or ["cpu"]
        return [runtime for runtime in runtimes if runtime != "gpu" or self.config.gpus]

    def image_for(self, runtime: str) -> str:
        return self.config.docker_images.get(runtime) or DEFAULT_IMAGE.format(runtime=runtime)

    def run(self, job: Job) -> Result:
        started = time.monotonic()
        pool = None if job.gpu else self.warm_pool  # a GPU job takes a lease first and starts cold
        if pool is not None:
            result = pool.run(job, self.image_for(job.runtime), started)
            if result is not None:
                return result
        try:
            client = self.client()
        except Exception as exc:
            return base.infrastructure(f"no Docker engine answers: {first_line(exc)}", self.name)
        try:
            return self.run_leased(job, lambda device: self._run(client, job, started, device))
        finally:
            client.close()

    @property
    def warm_pool(self) -> ContainerPool | None:
        """Return this configuration's pool of warm containers (shared in the process), or None if off."""
        if self.config.warm_pool_size <= 0:
            return None
        return warm.shared_pool(self, lambda: ContainerPool(self))

    def close(self) -> None:
        if self.config.warm_pool_size > 0:
            warm.close_pool(self)

    def _run(self, client: Any, job: Job, started: float, device: GpuDevice | None) -> Result:
        import docker.errors

        image = self.image_for(job.runtime)
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            return base.infrastructure(f"the runtime image {image} is missing; run {BUILD_COMMAND}", self.name)
        job_id = uuid.uuid4().hex
        try:
            with job_container(client, self.container_options(job, image, job_id, device)) as container:
                run = RunnerExec.for_job(client, container, job, self.runner_command(job))
                run.wait()
                end_job_processes(container)
                measured = measure(container)
                copied_entries = copy_output(container, job.output_dir, job.limits.disk_bytes)
        except docker.errors.DockerException as exc:
            log.exception("Docker failed while running job %s", job_id)
            return base.infrastructure(f"the Docker engine failed: {first_line(exc)}", self.name)
        return judge(
            run,
            measured,
            too_many_files=copied_entries > job.limits.output_files,
            duration_s=time.monotonic() - started,
            gpu_device=device.id if device else None,
        )

    def container_options(
        self, job: Job, image: str, job_id: str, device: GpuDevice | None, *, pool_stage: Path | None = None
    ) -> dict[str, Any]:
        """Return the keyword arguments of `containers.create` that lock the job down.

        With `pool_stage` the container is a warm pool's, made before its job: that host folder is bound
        read-only at POOL_STAGE, and the container lives POOL_IDLE_S longer than a job's (its expiry label
        and the `sleep` of its main process), so it can wait that long for its job. Every limit is the same.
        """
        from docker.types import DeviceRequest, LogConfig
        from docker.types import Mount as DockerMount

        limits = job.limits
        mounts = [DockerMount(f"{RUNNER_ROOT}/sandbox", str(base.SANDBOX_PACKAGE), type="bind", read_only=True)]
        for mount in job.mounts:
            mounts.append(
                DockerMount(f"{WORKDIR}/{mount.name}", str(Path(mount.source).resolve()), type="bind", read_only=True)
            )
        name = base.notebook_name_for(job)
        if job.notebook is not None and name is not None:
            mounts.append(
                DockerMount(f"{WORKDIR}/{name}", str(Path(job.notebook).resolve()), type="bind", read_only=True)
            )
        labels = {LABEL: job_id}
        command = ["sleep", "infinity"]
        lifetime = limits.wall_seconds + LEFTOVER_MARGIN_S
        if pool_stage is not None:
            mounts.append(DockerMount(POOL_STAGE, str(pool_stage.resolve()), type="bind", read_only=True))
            lifetime += warm.POOL_IDLE_S
            labels[POOL_LABEL] = job.runtime
            command = ["sleep", str(int(lifetime))]
        labels[EXPIRES_LABEL] = str(int(time.time() + lifetime))
        # The engine sorts mounts by depth, so the /job tmpfs lies under the binds inside it.
        inodes = limits.output_files + SPARE_INODES
        memory = limits.memory_bytes + limits.disk_bytes
        options: dict[str, Any] = {
            "image": image,
            "command": command,
            "name": f"ml-infn-sandbox-{job_id}",
            "labels": labels,
            "user": KEEPER,
            "working_dir": WORKDIR,
            "environment": {"HOME": HOME, "PATH": RUNTIME_PATH, "LANG": "C.UTF-8"},
            "network_mode": "none",
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "read_only": True,
            "tmpfs": {
                WORKDIR: f"rw,nosuid,nodev,exec,size={limits.disk_bytes},nr_inodes={inodes},uid=10001,gid=10001,"
                "mode=0755",
            },
            "mounts": mounts,
            # Data loaders (PyTorch's workers, tf.data) pass batches through /dev/shm: the same room as bwrap gives,
            # not Docker's 64 MiB. Its pages count against the memory limit like any other tmpfs.
            "shm_size": limits.disk_bytes,
            "mem_limit": memory,
            "memswap_limit": memory,  # equal: no swap beyond memory
            "pids_limit": limits.processes,
            "nano_cpus": int(limits.cpus * 1e9),
            "cpu_shares": JOB_CPU_SHARES,  # below the worker's and the web's: see sandbox.cgroups
            "init": True,
            "ipc_mode": "private",
            "log_config": LogConfig(type=LogConfig.types.JSON, config={"max-size": LOG_MAX_SIZE, "max-file": "1"}),
        }
        if device is not None:
            options["device_requests"] = [DeviceRequest(device_ids=[device.id], capabilities=[["gpu"]])]
        return options

    def runner_command(self, job: Job) -> list[str]:
        """Return the runner's command line inside the container; it reports on its stdout."""
        args = ["python", "-s", "-m", "sandbox.runner", "--limits", limits_to_json(job.limits)]
        if job.command is not None:
            return [*args, "--command", "-", "--", *job.command]
        return [*args, base.notebook_name_for(job) or base.DEFAULT_NOTEBOOK_NAME, "-"]

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        """Remove the job containers past their expiry label (`every`: all of them); return their names.

        A job's container outlives its worker when the worker is killed mid-run (its PID 1 sleeps forever, and
        its tmpfs holds memory). Each container is labelled at creation with when it has surely outlived its job,
        so the periodic cleanup (grading.sandboxing.remove_leftover_sandboxes) never touches a live job's, this
        worker's or another's on the same engine, whatever the exercises' limits have become since. A container
        without that label (or with an unreadable one) is kept: only `every` (no worker running) removes it.
        """
        client = self.client()
        removed = []
        now = time.time()
        try:
            for container in client.containers.list(all=True, filters={"label": LABEL}):
                expires = (container.labels or {}).get(EXPIRES_LABEL, "")
                if not every and not (expires.isdigit() and int(expires) < now):
                    continue
                with contextlib.suppress(Exception):
                    container.remove(force=True)
                    removed.append(container.name)
        finally:
            client.close()
        return removed


@contextlib.contextmanager
def job_container(client: Any, options: Mapping[str, Any]) -> Iterator[Any]:
    """Start the job's container for the block and always remove it afterwards, however the block ends."""
    container = client.containers.create(**options)
    try:
        container.start()
        prepare_job_folder(container)
        yield container
    finally:
        remove_container(client, container)


def prepare_job_folder(container: Any) -> None:
    """Make output/, the temporary folder and HOME in the container's /job, as the job's uid."""
    setup = container.exec_run(["mkdir", "-p", f"{WORKDIR}/output", TMP, HOME], user=USER)
    if setup.exit_code != 0:
        raise RuntimeError(f"could not prepare /job: {setup.output.decode(errors='replace')[:300]}")


def remove_container(client: Any, container: Any) -> None:
    """Force-remove the container, retrying while the engine is busy; log loudly if it survives."""
    import docker.errors

    for attempt in range(STOP_RETRIES):
        try:
            container.remove(force=True, v=True)
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            log.warning("Removing sandbox container %s failed (%s); retrying.", container.name, exc)
            time.sleep(0.5 * (attempt + 1))
    log.error("Sandbox container %s could not be removed; the periodic cleanup will.", container.name)


class RunnerExec:
    """The runner started inside the container with `docker exec`, watched against the wall clock.

    A cold job's runner is started and waited for at once (`wait`); a warm pool's is started when its container
    is made (`start`), says `ready` when its kernel is warm, and is waited for once its job has been handed over,
    with the job's limits put in `limits` first: the wall clock then counts from the hand-over.
    """

    def __init__(self, client: Any, container: Any, limits: Limits, command: list[str], env: dict[str, str]) -> None:
        self.client = client
        self.container = container
        self.limits = limits
        self.exec_id = client.api.exec_create(
            container.id, command, stdout=True, stderr=True, user=USER, workdir=WORKDIR, environment=env
        )["Id"]
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        self.timed_out = False
        self.process_capped = False
        self.exit_code: int | None = None
        self.reader: threading.Thread | None = None
        self.ready = threading.Event()  # the runner wrote warm.READY_LINE (warm runners only)
        self.ended = threading.Event()  # its output stream closed: the runner has ended
        self.on_ready: Callable[[], None] | None = None
        self.on_end: Callable[[], None] | None = None

    @classmethod
    def for_job(cls, client: Any, container: Any, job: Job, command: list[str]) -> RunnerExec:
        """Make the runner of a cold job, with the job's whole environment."""
        env = base.job_env(job, HOME, {"PYTHONPATH": RUNNER_ROOT, "PATH": RUNTIME_PATH, "TMPDIR": TMP})
        return cls(client, container, job.limits, command, env)

    def start(self) -> None:
        """Start the runner and the thread that collects its streams (once)."""
        if self.reader is not None:
            return
        stream = self.client.api.exec_start(self.exec_id, stream=True, demux=True)
        self.reader = threading.Thread(target=self._read, args=(stream,), name="docker-runner", daemon=True)
        self.reader.start()

    def wait(self) -> None:
        """Run to the end or past the wall clock (then the container is killed); collect both streams.

        Meanwhile the container's process cap is watched: a job that keeps hitting it is ended (`process_capped`).
        """
        self.start()
        reader = self.reader
        assert reader is not None
        watch = threading.Thread(target=self._watch_cap, args=(reader,), name="docker-cap-watch", daemon=True)
        watch.start()
        reader.join(self.limits.wall_seconds + WALL_GRACE_S)
        if reader.is_alive():
            self.timed_out = True
            with contextlib.suppress(Exception):
                self.container.kill()
            reader.join(ENGINE_TIMEOUT_S)
        with contextlib.suppress(Exception):
            self.exit_code = self.client.api.exec_inspect(self.exec_id).get("ExitCode")

    def _watch_cap(self, reader: threading.Thread) -> None:
        rule = host.ProcessCapRule()
        spinning = host.RunnableRule(self.limits.cpus)
        while reader.is_alive():
            reader.join(CAP_WATCH_INTERVAL_S)
            try:
                reply = self.container.exec_run(["cat", *PIDS_FILES], user=USER)
            except Exception:
                return  # the container is gone or the engine busy: the wall clock still holds
            counts = pids_counts(reply.output.decode(errors="replace"))
            ended = counts is not None and rule.keeps_hitting(*counts, time.monotonic())
            if not ended and counts is not None and counts[0] > spinning.limit:
                with contextlib.suppress(Exception):
                    text = self.container.exec_run(["sh", "-c", RUNNABLE_SCRIPT], user=USER).output.decode().strip()
                    ended = text.isdigit() and spinning.keeps_spinning(int(text) - 1, time.monotonic())
            elif counts is not None:
                spinning.over_since = None
            if ended:
                self.process_capped = True
                with contextlib.suppress(Exception):
                    # The shell's own kill builtin, which needs no fork: kill(-1) reaches only the job's uid.
                    self.container.exec_run(["sh", "-c", "kill -9 -1"], user=USER)
                return

    def _read(self, stream: Any) -> None:
        # Bounded: a runaway runner cannot fill the worker's memory.
        size = 0
        try:
            with contextlib.suppress(Exception):
                for out, err in stream:
                    for chunk, sink in ((out, self.stdout), (err, self.stderr)):
                        if chunk and size < base.REPORT_MAX_BYTES:
                            sink.append(chunk)
                            size += len(chunk)
                    if out and not self.ready.is_set() and warm.READY_LINE in b"".join(self.stdout[:4]):
                        self.ready.set()
                        if self.on_ready is not None:
                            self.on_ready()
        finally:
            self.ended.set()
            if self.on_end is not None:
                self.on_end()

    @property
    def report_text(self) -> str:
        return b"".join(self.stdout).decode("utf-8", "replace")

    @property
    def diagnostics(self) -> str:
        return b"".join(self.stderr)[-base.DIAGNOSTIC_BYTES :].decode("utf-8", "replace")


def end_job_processes(container: Any) -> None:
    """Kill whatever the job left running (daemons, escaped forks) before output/ is read, so none can change it."""
    container.reload()
    if container.status == "running":
        # The shell's own kill builtin: kill(-1) spares the caller and reaches only the job's uid.
        container.exec_run(["sh", "-c", "kill -9 -1"], user=USER)


CGROUP_FILES = {
    "oom": ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"),
    "pids": ("/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"),
    "peak": ("/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory.peak"),
}


def measure(container: Any) -> Measured:
    """Read the container's OOM and process-limit counters and peak memory (cgroup v1 or v2)."""
    container.reload()
    oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
    counters: dict[str, str] = {}
    if container.status == "running":
        # The cgroup files are read-only inside the container and written by the kernel alone.
        paths = [p for pair in CGROUP_FILES.values() for p in pair]
        script = 'for f in "$@"; do echo "== $f"; cat "$f" 2>/dev/null; done'
        reply = container.exec_run(["sh", "-c", script, "sh", *paths], user=USER)
        current = ""
        for line in reply.output.decode(errors="replace").splitlines():
            if line.startswith("== "):
                current = line[3:]
                counters[current] = ""
            elif current:
                counters[current] += line + "\n"
    oom = oom or any(counter(counters.get(p, ""), "oom_kill") > 0 for p in CGROUP_FILES["oom"])
    pids = any(counter(counters.get(p, ""), "max") > 0 for p in CGROUP_FILES["pids"])
    peak = None
    for path in CGROUP_FILES["peak"]:
        text = counters.get(path, "").strip()
        if text.isdigit():
            peak = int(text)
    return Measured(oom_killed=oom, hit_process_limit=pids, peak_memory_bytes=peak)


def pids_counts(text: str) -> tuple[int, int, int] | None:
    """Parse `cat` of PIDS_FILES into (processes, cap, refusals), or None when the files were not there."""
    numbers: list[int] = []
    refusals = 0
    for line in text.splitlines():
        name, _, value = line.strip().partition(" ")
        if name == "max" and value.isdigit():
            refusals = int(value)  # pids.events
        elif name.isdigit() and not value:
            numbers.append(int(name))
        elif name == "max" and not value:
            numbers.append(1 << 31)  # no cap
    return (numbers[0], numbers[1], refusals) if len(numbers) >= 2 else None


def counter(text: str, key: str) -> int:
    """Return the value of `key` in a cgroup "key value" file, 0 when absent."""
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def copy_output(container: Any, destination: Path, limit_bytes: int) -> int:
    """Copy output/ out of the running container into `destination`; return the entries it held.

    The engine's archive API cannot see tmpfs mounts, so `tar` inside the container streams the folder out.
    Only regular files and folders come out: links and device nodes stay behind, so nothing the job wrote
    can point the host at its own files. The stream is bounded by the tmpfs it comes from.
    """
    destination.mkdir(parents=True, exist_ok=True)
    container.reload()
    if container.status != "running":
        return 0  # the container stopped (killed at the wall clock, or by the job): its tmpfs went with it
    api = container.client.api
    exec_id = api.exec_create(container.id, ["tar", "-C", WORKDIR, "-cf", "-", "output"], stderr=False, user=USER)
    entries = 0
    with tempfile.TemporaryFile() as spool:
        size = 0
        for chunk in api.exec_start(exec_id["Id"], stream=True):
            size += len(chunk)
            if size > 2 * limit_bytes + 64 * 1024 * 1024:
                break  # tar headers of many small files cost more than their bytes; this is far past both
            spool.write(chunk)
        spool.seek(0)
        with contextlib.suppress(tarfile.TarError), tarfile.open(fileobj=spool, mode="r|") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if len(parts) < 2 or parts[0] != "output":
                    continue
                entries += 1
                relative = PurePosixPath(*parts[1:])
                if ".." in relative.parts or relative.is_absolute():
                    continue
                target = destination.joinpath(*relative.parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    source = archive.extractfile(member)
                    if source is None:
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    # O_NOFOLLOW: a name the job reused for a folder cannot redirect the write.
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
                    with os.fdopen(fd, "wb") as sink:
                        shutil.copyfileobj(source, sink)
    return entries


def judge(
    run: RunnerExec, measured: Measured, too_many_files: bool, duration_s: float, gpu_device: str | None
) -> Result:
    """Turn the runner's report and what the engine measured into the job's result; the host's view wins."""
    report = read_report(run.report_text)
    outcome = report.outcome if report else None
    message = report.message if report else ""
    if too_many_files:
        outcome, message = Outcome.DISK, MESSAGES[Outcome.DISK]
    elif run.process_capped:
        outcome, message = Outcome.PROCESSES, MESSAGES[Outcome.PROCESSES]
    elif report and report.outcome in (Outcome.OUTPUT, Outcome.DISK):
        pass  # the runner saw the flood or ENOSPC itself; a kill that followed is not the cause
    elif measured.hit_process_limit and outcome is not Outcome.OK:
        # Before memory: a fork bomb's copies often exhaust memory too, but the processes are the cause.
        outcome, message = Outcome.PROCESSES, MESSAGES[Outcome.PROCESSES]
    elif measured.oom_killed:
        outcome, message = Outcome.MEMORY, MESSAGES[Outcome.MEMORY]
    elif run.timed_out:
        outcome, message = Outcome.TIMEOUT, MESSAGES[Outcome.TIMEOUT]
    elif report is None:
        if run.exit_code in (126, 127) or "OCI runtime" in run.diagnostics:
            outcome = Outcome.INFRASTRUCTURE
            message = f"{MESSAGES[Outcome.INFRASTRUCTURE]} ({run.diagnostics.strip()[:300]})"
        else:
            outcome = Outcome.ERROR
            message = "The sandbox's runner stopped without a report; check what the notebook starts or kills."
    assert outcome is not None
    return Result(
        outcome=outcome,
        duration_s=duration_s,
        message=message,
        log=report.log if report else run.diagnostics,
        log_truncated=report.log_truncated if report else False,
        peak_memory_bytes=measured.peak_memory_bytes or (report.peak_memory_bytes if report else None),
        executed_notebook=report.executed_notebook if report else None,
        failed_cell=report.failed_cell if report else None,
        traceback=report.traceback if report else None,
        gpu_device=gpu_device,
        backend=Backend.name,
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


# --- the warm pool of containers -----------------------------------------------------------------------------


@dataclass(eq=False)
class PooledContainer(warm.PooledSandbox):
    """A started container whose runner has warmed a kernel and waits for its one job's request file."""

    client: Any
    container: Any
    run: RunnerExec
    expires: float  # Unix seconds: its expiry label, when its main process stops by itself

    def alive(self) -> bool:
        return not self.run.ended.is_set()


class ContainerPool(warm.StagedPool[PooledContainer]):
    """Containers kept warm per runtime for one docker backend configuration, one job each.

    A container is made with `Backend.container_options` for the limits it warms for (so memory, CPU, processes,
    disk, no network and the read-only root are a cold job's), plus its stage folder at POOL_STAGE. Its runner
    (`--warm-request`) starts the kernel, imports the runtime's modules and waits. At hand-over the job's inputs
    are hard-linked into the stage, the request file is renamed into it, the runner links /job/<name> to
    the stage and runs the notebook; the wall clock, the process-cap watch, the measures and the copy of output/
    are a cold job's. Then the container is removed and a replacement starts.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        super().__init__(backend.config, Path(backend.config.state_dir) / "docker-warm")

    def source_for(self, runtime: str) -> str | None:
        return self.backend.image_for(runtime)

    def usable_for(self, sandbox: PooledContainer, job: Job) -> bool:
        """A container must outlive the job's wall clock and the copying out by the usual margin."""
        return sandbox.expires - time.time() >= job.limits.wall_seconds + LEFTOVER_MARGIN_S

    def expired(self, sandbox: PooledContainer) -> bool:
        return sandbox.expires - time.time() < sandbox.limits.wall_seconds + LEFTOVER_MARGIN_S

    def spawn(self, runtime: str, source: str, limits: Limits) -> PooledContainer:
        """Create and start one container, and start its warm runner; it says ready when its kernel is warm."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{runtime}-", dir=self.root))
        stage = folder / "stage"
        stage.mkdir()
        os.chmod(stage, 0o755)  # noqa: S103 - the job's uid must read it; it is bound read-only
        client = self.backend.client()
        container = None
        try:
            # A command job: no notebook to bind; the notebook comes through the stage.
            placeholder = Job(output_dir=folder / "output", command=("true",), limits=limits, runtime=runtime)
            options = self.backend.container_options(placeholder, source, uuid.uuid4().hex, None, pool_stage=stage)
            container = client.containers.create(**options)
            container.start()
            prepare_job_folder(container)
            imports = ",".join(self.config.warm_imports.get(runtime, ()))
            command = [
                *["python", "-s", "-m", "sandbox.runner", "--limits", limits_to_json(limits), "--preload", imports],
                *["--warm-request", f"{POOL_STAGE}/{REQUEST_NAME}", "--warm", "-"],
            ]
            env = base.job_env(placeholder, HOME, {"PYTHONPATH": RUNNER_ROOT, "PATH": RUNTIME_PATH, "TMPDIR": TMP})
            run = RunnerExec(client, container, limits, command, env)
            sandbox = PooledContainer(
                runtime, limits, folder, client=client, container=container, run=run, expires=expiry_of(options)
            )
            sandbox.ready = run.ready
            run.on_ready = lambda: self.warmed(sandbox)
            run.on_end = lambda: self.ended_idle(sandbox)
            run.start()
        except BaseException:
            if container is not None:
                remove_container(client, container)
            client.close()
            remove_tree(folder)
            raise
        return sandbox

    def ended_idle(self, sandbox: PooledContainer) -> None:
        """The runner's stream closed: if it never became warm, count a failed start."""
        sandbox.ended.set()
        if not sandbox.ready.is_set():
            text = (b"".join(sandbox.run.stdout) + b"".join(sandbox.run.stderr)).decode("utf-8", "replace")
            self.died_warming(sandbox, text)

    def run_in(self, sandbox: PooledContainer, job: Job, name: str, started: float) -> Result:
        """Write the job's request into the stage, then watch, measure and copy out as for a cold job."""
        import docker.errors

        run = sandbox.run
        run.limits = job.limits  # the wall clock and the cap watch, counted from now
        warm.hand_over(job, name, sandbox.stage, POOL_STAGE, sandbox.folder)
        try:
            run.wait()
            end_job_processes(sandbox.container)
            measured = measure(sandbox.container)
            copied_entries = copy_output(sandbox.container, job.output_dir, job.limits.disk_bytes)
        except docker.errors.DockerException as exc:
            log.exception("Docker failed while running a job in warm container %s", sandbox.container.name)
            return base.infrastructure(f"the Docker engine failed: {first_line(exc)}", self.backend.name)
        result = judge(
            run,
            measured,
            too_many_files=copied_entries > job.limits.output_files,
            duration_s=time.monotonic() - started,
            gpu_device=None,
        )
        return dataclasses.replace(result, warm=True)

    def destroy(self, sandbox: PooledContainer) -> None:
        """Remove the container (and so everything in it) and its stage folder."""
        remove_container(sandbox.client, sandbox.container)
        with contextlib.suppress(Exception):
            sandbox.client.close()
        remove_tree(sandbox.folder)


def expiry_of(options: Mapping[str, Any]) -> float:
    """Return the expiry (Unix seconds) that `container_options` wrote into the labels."""
    return float(options["labels"][EXPIRES_LABEL])
