"""The warm pool: sandboxes started before their job, kernel up and heavy imports done, one job each.

`SandboxPool` keeps the pool (what to warm, taking, refilling, expiry, the one spawning thread); a backend
subclasses it with how to start, hand over to and destroy its own kind of sandbox: `WarmPool` here for bwrap,
`sandbox.backends.docker.ContainerPool` for containers, `sandbox.backends.kubernetes.PodPool` for pods (both
`StagedPool`s: made before their job, they get its inputs through a stage folder of their own).

Per runtime the pool keeps `warm_pool_size` sandboxes running `python -m sandbox.runner --warm`: the kernel
is started and `warm_imports[runtime]` imported, then the runner waits for its one job on stdin. Each
sandbox serves exactly one job and is then destroyed; a replacement starts as soon as one is taken.

A job's inputs do not exist when its sandbox starts, so each sandbox binds two folders of its own instead:
`stage/`, read-only at /job, and `output/`, writable at /job/output. When the job arrives its notebook and
each mount's files are hard-linked into `stage/` (copied where a link is refused), where the running
sandbox sees them at once; afterwards `output/` is moved into `job.output_dir` without following symlinks.

Limits are those of a cold job: the sandbox's cgroup, /tmp size and rlimits are made from the limits the
pool was warmed for, and a job only takes a sandbox warmed for its own memory, processes, CPUs and disk
(`startup_limits`); the runner counts the wall clock from the job's arrival. A job that does not fit (a
command, a GPU job, a mount name that is not one plain folder name, a mount on another file system than
`state_dir`, other limits) runs cold, and the pool then warms for those limits.

Sandboxes must not outlive the worker: bwrap runs with `--die-with-parent`, whose "parent" is the thread
that started it, so every sandbox is started from one long-lived thread of the pool; `close()` (and the
interpreter's exit) stops them all.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import logging
import os
import queue
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from sandbox.backends import base, host
from sandbox.cgroups import JobCgroup
from sandbox.jobs import GpuDevice, Job, Limits, Result, SandboxConfig
from sandbox.runner import limits_to_json
from sandbox.trees import remove_tree

log = logging.getLogger(__name__)

WARM_START_S = 180.0  # the longest a job waits for a sandbox still warming up; a cold start is no faster
MAX_FAILED_STARTS = 3  # in a row, per runtime: then the runtime stays cold (its imports or kernel are broken)
READY_LINE = b'{"event": "ready"}'
REQUEST_NAME = ".request.json"  # in a stage: the job's request, renamed into place whole (`hand_over`)
# A container or pod made before its job (docker, kubernetes) is replaced after waiting this long, and ends by
# itself POOL_IDLE_S + its wall clock + a margin after its start, so a killed worker's leave no memory held for ever.
POOL_IDLE_S = 900
# Inputs that cannot be hard-linked into such a sandbox's stage (another mount, as the private data is) are copied,
# up to this much in all; a larger data set runs cold. A copy of 256 MiB takes well under a second, a cold
# container with its imports 9-24 s (docs/benchmarks.md).
COPY_MAX_BYTES = 256 * 1024 * 1024
WORKER_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


class SandboxMaker(Protocol):
    """What the pool needs of its backend (bwrap's): a name, a configuration and the sandbox's command line.

    A protocol, not an import of `sandbox.backends.bwrap`, so that bwrap may import this module and not the
    other way round.
    """

    name: str
    config: SandboxConfig

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
    ) -> list[str]: ...


def startup_limits(limits: Limits) -> tuple[int, int, int, float]:
    """Return the limits fixed when a sandbox starts: a job may only take a sandbox started with its own."""
    return (limits.disk_bytes, limits.memory_bytes, limits.processes, limits.cpus)


@dataclass(eq=False)
class PooledSandbox:
    """One started sandbox of any backend, waiting for (or running) its single job."""

    runtime: str
    limits: Limits
    folder: Path  # the host folder of the sandbox's own: its stage of inputs, removed with it
    ready: threading.Event = field(default_factory=threading.Event, init=False)
    ended: threading.Event = field(default_factory=threading.Event, init=False)

    @property
    def stage(self) -> Path:
        return self.folder / "stage"

    def alive(self) -> bool:
        """Tell whether the sandbox still runs (its runner has not ended)."""
        return not self.ended.is_set()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the kernel is warm; False if the sandbox died or took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        while not self.ready.is_set():
            if self.ended.is_set() or time.monotonic() > deadline:
                return False
            self.ready.wait(0.05)
        return self.alive()


@dataclass(eq=False)
class WarmSandbox(PooledSandbox):
    """One started bwrap sandbox: its process, the report pipe's reader and what it has read."""

    launch: host.Launch
    proc: subprocess.Popen[bytes]
    reader: threading.Thread
    chunks: list[bytes]

    @property
    def output(self) -> Path:
        return self.folder / "output"

    def alive(self) -> bool:
        return self.proc.poll() is None


S = TypeVar("S", bound=PooledSandbox)
HOUSEKEEPING_S = 60.0  # how often an idle pool looks for sandboxes past their idle expiry


class SandboxPool(Generic[S]):
    """Sandboxes kept warm per runtime for one backend configuration; subclasses say how to make each kind.

    `source` is what a sandbox of a runtime is made from: the interpreter (bwrap) or the image (docker).
    """

    def __init__(self, config: SandboxConfig, root: Path) -> None:
        self.config = config
        self.size = config.warm_pool_size
        self.root = root
        self.lock = threading.Lock()
        self.idle: list[S] = []  # started (warm or warming), not yet given a job
        self.wanted: dict[str, tuple[str, Limits]] = {}  # runtime -> source and limits to warm for
        self.pending: dict[str, int] = {}  # starts asked of the spawner, not yet done
        self.failures: dict[str, int] = {}
        self.closed = False
        self.requests: queue.Queue[str | None] = queue.Queue()
        self.spawner = threading.Thread(target=self.spawn_forever, name="warm-pool", daemon=True)
        self.spawner.start()

    # --- what each kind of sandbox says ---------------------------------------------------------------

    def source_for(self, runtime: str) -> str | None:
        """Return what a sandbox of the runtime is made from, or None when the configuration has none."""
        raise NotImplementedError

    def spawn(self, runtime: str, source: str, limits: Limits) -> S:
        """Start one sandbox that warms up and then waits for its job; raise if it cannot start."""
        raise NotImplementedError

    def stage(self, sandbox: S, job: Job) -> str:
        """Put the notebook and each mount where the sandbox sees them; return the notebook's name in /job."""
        raise NotImplementedError

    def run_in(self, sandbox: S, job: Job, name: str, started: float) -> Result:
        """Hand the staged job to the waiting runner, watch it like a cold job, and collect its output/."""
        raise NotImplementedError

    def destroy(self, sandbox: S) -> None:
        """Stop the sandbox and everything in it, and remove its folders."""
        raise NotImplementedError

    def fits(self, job: Job) -> bool:
        """Tell whether a warm sandbox can run the job at all (else it runs cold)."""
        return fits(job)

    def usable_for(self, sandbox: S, job: Job) -> bool:
        """Tell whether this idle sandbox may still take the job (e.g. it will outlive the job's wall clock)."""
        return True

    def expired(self, sandbox: S) -> bool:
        """Tell whether an idle sandbox has waited too long and must be replaced; the default never expires."""
        return False

    def wait_warm(self, sandbox: S, timeout: float) -> bool:
        """Wait (up to `timeout` s) until a taken sandbox is warm; False if it died or is late (it then runs cold)."""
        return sandbox.wait_ready(timeout)

    # --- the caller's side ----------------------------------------------------------------------------

    def prepare(self, runtime: str, limits: Limits, source: str | Path | None = None) -> None:
        """Start warming sandboxes for jobs of `runtime` with these limits (replacing any warmed for others)."""
        chosen = str(source) if source is not None else self.source_for(runtime)
        if chosen is None:
            return
        with self.lock:
            self._want(runtime, chosen, limits)

    def wait_ready(self, runtime: str, timeout: float) -> bool:
        """Wait until the pool holds `warm_pool_size` warm sandboxes for the runtime (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                mine = [s for s in self.idle if s.runtime == runtime]
            if len(mine) >= self.size and all(s.ready.is_set() for s in mine):
                return True
            if self.failures.get(runtime, 0) >= MAX_FAILED_STARTS:
                return False
            time.sleep(0.1)
        return False

    def run(self, job: Job, source: str | Path, started: float) -> Result | None:
        """Run the job in a warm sandbox and return its result, or None when it must run cold."""
        if not self.fits(job) or self.closed or not self.can_link(job):
            return None
        sandbox = self.take(job, str(source))
        if sandbox is None:
            return None
        try:
            name = self.stage(sandbox, job)
        except OSError:
            # The sandbox layer's own failure (an unreadable input, a full state_dir): a cold start may still work.
            log.exception("Could not stage a job's inputs for a warm sandbox; running it cold.")
            self.destroy(sandbox)
            return None
        try:
            return self.run_in(sandbox, job, name, started)
        finally:
            self.destroy(sandbox)

    def can_link(self, job: Job) -> bool:
        """Tell whether every input can be hard-linked into a stage; copying a data set costs more than a cold start."""
        self.root.mkdir(parents=True, exist_ok=True)
        device = os.stat(self.root).st_dev
        return all(os.stat(mount.source).st_dev == device for mount in job.mounts)

    def close(self) -> None:
        """Stop every sandbox of the pool and its spawning thread."""
        with self.lock:
            self.closed = True
            sandboxes, self.idle = self.idle, []
        self.requests.put(None)
        for sandbox in sandboxes:
            self.destroy(sandbox)
        self.spawner.join(timeout=30)
        # A start that was under way when we closed has been destroyed by the spawner itself.

    # --- taking and running ---------------------------------------------------------------------------

    def _want(self, runtime: str, source: str, limits: Limits) -> None:
        """Warm for these limits from now on; ask for as many starts as the pool is short. Hold the lock."""
        previous = self.wanted.get(runtime)
        if previous is None or startup_limits(previous[1]) != startup_limits(limits) or previous[0] != source:
            self.wanted[runtime] = (source, limits)
            stale = [s for s in self.idle if s.runtime == runtime]
            self.idle = [s for s in self.idle if s.runtime != runtime]
            for sandbox in stale:
                threading.Thread(target=self.destroy, args=(sandbox,), daemon=True).start()
        have = sum(1 for s in self.idle if s.runtime == runtime) + self.pending.get(runtime, 0)
        for _ in range(self.size - have):
            self.pending[runtime] = self.pending.get(runtime, 0) + 1
            self.requests.put(runtime)

    def take(self, job: Job, source: str) -> S | None:
        """Take a sandbox warmed for this job's runtime and limits, waiting for one that is warming up."""
        with self.lock:
            if self.failures.get(job.runtime, 0) >= MAX_FAILED_STARTS:
                return None
            expired = [s for s in self.idle if s.runtime == job.runtime and self.expired(s)]
            self.idle = [s for s in self.idle if s not in expired]
            for sandbox in expired:
                threading.Thread(target=self.destroy, args=(sandbox,), daemon=True).start()
            self._want(job.runtime, source, job.limits)
            mine = [s for s in self.idle if s.runtime == job.runtime and self.usable_for(s, job)]
            mine.sort(key=lambda s: not s.ready.is_set())  # warm ones first
            chosen = mine[0] if mine else None
            if chosen is not None:
                self.idle.remove(chosen)
                self._want(job.runtime, source, job.limits)  # its replacement starts now
        if chosen is None:
            return None
        if not self.wait_warm(chosen, WARM_START_S):
            log.warning(
                "A warm sandbox for %s did not become ready (it ended, or was late); running cold.", job.runtime
            )
            self.destroy(chosen)
            return None
        return chosen

    def replace_expired(self) -> None:
        """Destroy the idle sandboxes past their idle expiry and start their replacements."""
        with self.lock:
            if self.closed:
                return
            expired = [s for s in self.idle if self.expired(s)]
            self.idle = [s for s in self.idle if s not in expired]
            for sandbox in expired:
                if sandbox.runtime in self.wanted:
                    self._want(sandbox.runtime, *self.wanted[sandbox.runtime])
        for sandbox in expired:
            self.destroy(sandbox)

    # --- the spawning thread --------------------------------------------------------------------------

    def spawn_forever(self) -> None:
        """Start the sandboxes asked for, from this one thread, until the pool closes; replace expired ones."""
        next_look = time.monotonic() + HOUSEKEEPING_S
        while True:
            if time.monotonic() >= next_look:  # by the clock: a busy runtime's requests must not starve the others
                self.replace_expired()
                next_look = time.monotonic() + HOUSEKEEPING_S
            try:
                runtime = self.requests.get(timeout=max(0.0, next_look - time.monotonic()))
            except queue.Empty:
                continue
            if runtime is None:
                return
            with self.lock:
                self.pending[runtime] = max(0, self.pending.get(runtime, 0) - 1)
                if self.closed:
                    return
                source, limits = self.wanted[runtime]
                if self.failures.get(runtime, 0) >= MAX_FAILED_STARTS:
                    continue
            try:
                sandbox = self.spawn(runtime, source, limits)
            except Exception:
                log.exception("Could not start a warm sandbox for runtime %s.", runtime)
                self.failed(runtime)
                continue
            with self.lock:
                keep = not self.closed and self.wanted.get(runtime) == (source, limits)
                if keep:
                    self.idle.append(sandbox)
            if not keep:
                self.destroy(sandbox)

    def failed(self, runtime: str) -> None:
        with self.lock:
            self.failures[runtime] = self.failures.get(runtime, 0) + 1
            if self.failures[runtime] >= MAX_FAILED_STARTS:
                log.error("Warm sandboxes for runtime %s keep failing to start; its jobs run cold.", runtime)

    def warmed(self, sandbox: S) -> None:
        """Note that a sandbox became warm: its runtime starts well again."""
        sandbox.ready.set()
        with self.lock:
            self.failures[sandbox.runtime] = 0

    def died_warming(self, sandbox: S, text: str, *, taken: bool = False) -> None:
        """Note that a sandbox ended before it was warm: count the failure, destroy it and ask for another.

        `taken`: a job had taken it while it warmed (kubernetes learns it only then); its taker destroys it.
        """
        with self.lock:
            closing = self.closed or (sandbox not in self.idle and not taken)
            if sandbox in self.idle:
                self.idle.remove(sandbox)
        if not closing:
            log.warning("A warm sandbox for %s ended while warming up: %s", sandbox.runtime, text[-500:])
            self.failed(sandbox.runtime)
            if not taken:
                self.destroy(sandbox)
            with self.lock:
                if not self.closed:
                    self._want(sandbox.runtime, *self.wanted[sandbox.runtime])


class StagedPool(SandboxPool[S]):
    """A pool of sandboxes made before their job with a stage folder of their own (docker's, kubernetes').

    Their folders are fixed when they are made, so a job's inputs are put into the stage at hand-over: hard
    links, or copies up to COPY_MAX_BYTES in all (`stageable`). `/job` holds the backend's own names (output/,
    dot-folders such as the stage), which no mount may take.
    """

    def fits(self, job: Job) -> bool:
        """Take CPU notebooks whose mounts are plain names that are not the backend's own."""
        return fits(job) and all(m.name not in base.RESERVED_NAMES and not m.name.startswith(".") for m in job.mounts)

    def can_link(self, job: Job) -> bool:
        """Tell whether the job's inputs can be staged: hard-linked, or else small enough to copy."""
        return stageable(job, self.root)

    def stage(self, sandbox: S, job: Job) -> str:
        """Link the job's inputs and copy its notebook into the sandbox's stage; return the notebook's name."""
        return stage_inputs(job, sandbox.stage)


class WarmPool(SandboxPool[WarmSandbox]):
    """Sandboxes kept warm per runtime for one bwrap backend configuration."""

    def __init__(self, backend: SandboxMaker) -> None:
        self.backend = backend
        super().__init__(backend.config, Path(backend.config.state_dir) / "warm")

    def source_for(self, runtime: str) -> str | None:
        python = self.config.runtime_python.get(runtime)
        return str(python) if python is not None else None

    def stage(self, sandbox: WarmSandbox, job: Job) -> str:
        return stage_inputs(job, sandbox.stage)

    def run_in(self, sandbox: WarmSandbox, job: Job, name: str, started: float) -> Result:
        """Hand the staged job to the waiting runner, watch it like a cold job, and collect its output/."""
        assert sandbox.proc.stdin is not None
        host.prepare_output(job.output_dir, host.NOBODY if host.may_drop_privileges() else None)
        request = {"notebook": name, "limits": json.loads(limits_to_json(job.limits)), "env": dict(job.env)}
        launch = sandbox.launch
        launch.limits = job.limits  # the host's wall clock and output/ watch, counted from now
        try:
            sandbox.proc.stdin.write((json.dumps(request) + "\n").encode())
            sandbox.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass  # it died while idle: judged below like any sandbox that ended without a report
        host.watch_launch(launch, sandbox.proc, sandbox.reader, sandbox.chunks)
        result = host.judge(launch, self.backend.name, time.monotonic() - started)
        move_output(sandbox.output, job.output_dir)
        return dataclasses.replace(result, warm=True)

    def destroy(self, sandbox: WarmSandbox) -> None:
        """Kill the sandbox and everything in it, and remove its folders."""
        host.kill_sandbox(sandbox.proc, sandbox.launch.cgroup)
        with contextlib.suppress(subprocess.TimeoutExpired):
            sandbox.proc.wait(timeout=10)
        if sandbox.proc.stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                sandbox.proc.stdin.close()
        diag = getattr(sandbox.proc, "diag", None)
        if diag is not None:
            diag.close()
        if sandbox.launch.cgroup is not None:
            sandbox.launch.cgroup.kill_all()
            sandbox.launch.cgroup.remove()
        remove_tree(sandbox.folder)

    def spawn(self, runtime: str, source: str, limits: Limits) -> WarmSandbox:
        """Start one sandbox whose runner warms the kernel and then waits for a job on stdin."""
        runtime_info = host.inspect_runtime(Path(source))
        drop = host.may_drop_privileges()
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{runtime}-", dir=self.root))
        stage, output = folder / "stage", folder / "output"
        stage.mkdir()
        os.chmod(stage, 0o755)  # noqa: S103 - the job's uid must read /job; it is mounted read-only
        (stage / "output").mkdir()  # the mount point of output/ inside the read-only stage
        host.prepare_output(output, host.NOBODY if drop else None)
        placeholder = Job(output_dir=output, notebook=stage / "warm.ipynb", limits=limits, runtime=runtime)
        imports = ",".join(self.config.warm_imports.get(runtime, ()))
        read_fd, write_fd = os.pipe()
        args = ["--limits", limits_to_json(limits), "--preload", imports, "--warm", f"fd:{write_fd}"]
        cgroup: JobCgroup | None = None
        try:
            argv = self.backend.command(
                placeholder, runtime_info, folder, None, write_fd, None, drop, workdir_source=stage, extra_args=args
            )
            cgroup = JobCgroup.create(limits)
            launch = host.Launch(
                argv=argv, limits=limits, output_dir=output, env=dict(WORKER_ENV), cgroup=cgroup, stdin_text=""
            )
            proc = host.start(launch, write_fd)
        except BaseException:
            os.close(read_fd)
            if cgroup is not None:
                cgroup.remove()
            remove_tree(folder)
            raise
        finally:
            os.close(write_fd)
        chunks: list[bytes] = []
        sandbox = WarmSandbox(runtime, limits, folder, launch, proc, threading.Thread(), chunks)
        sandbox.reader = threading.Thread(
            target=self.read_report, args=(read_fd, sandbox), name="warm-report", daemon=True
        )
        sandbox.reader.start()
        return sandbox

    def read_report(self, fd: int, sandbox: WarmSandbox) -> None:
        """Collect the runner's report pipe, noticing when the kernel is warm; a pump per sandbox."""
        size = 0
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(1 << 20):
                if size < base.REPORT_MAX_BYTES:
                    sandbox.chunks.append(chunk)
                size += len(chunk)
                if not sandbox.ready.is_set() and READY_LINE in b"".join(sandbox.chunks[:4]):
                    self.warmed(sandbox)
        if not sandbox.ready.is_set():
            self.died_warming(sandbox, b"".join(sandbox.chunks).decode("utf-8", "replace"))
        sandbox.ended.set()


def fits(job: Job) -> bool:
    """Tell whether a warm sandbox can run the job: a CPU notebook whose mounts are plain folder names."""
    if job.notebook is None or job.gpu:
        return False
    for mount in job.mounts:
        if "/" in mount.name or mount.name in ("", ".", "..") or not os.path.exists(mount.source):
            return False
    return True


def stage_inputs(job: Job, stage: Path) -> str:
    """Put the notebook and each mount into a sandbox's stage folder; return the notebook's name in /job.

    Mounts are hard-linked where the file system allows and copied otherwise (`stage_copy`); the notebook is copied
    (its file is the participant's, and the job must not change it through a link).
    """
    assert job.notebook is not None
    name = base.notebook_name_for(job)
    assert name is not None
    for mount in job.mounts:
        stage_copy(mount.source, stage / mount.name)
    shutil.copyfile(job.notebook, stage / name)
    os.chmod(stage / name, 0o644)
    return name


def hand_over(job: Job, name: str, stage: Path, stage_mount: str, scratch: Path) -> None:
    """Write the job's request for a runner started with `--warm-request <stage_mount>/REQUEST_NAME`.

    The runner links /job/<mount> and /job/<notebook> to the stage, where `stage_inputs` put them, so the job finds
    its files where a cold job does. The request is written in `scratch` (a folder of the sandbox's on the same
    file system, not the stage) and renamed into the stage whole: the runner reads it as soon as it appears.
    """
    links = {mount.name: f"{stage_mount}/{mount.name}" for mount in job.mounts}
    links[name] = f"{stage_mount}/{name}"
    request = {"notebook": name, "limits": json.loads(limits_to_json(job.limits)), "env": dict(job.env), "links": links}
    written = scratch / f"request.{uuid.uuid4().hex}.tmp"
    written.write_text(json.dumps(request) + "\n")
    os.chmod(written, 0o644)
    os.rename(written, stage / REQUEST_NAME)


def links_into(source: Path, folder: Path) -> bool:
    """Tell whether a file of `source` (the first one found) can be hard-linked into `folder`: same mount."""
    for parent, _, files in os.walk(source):
        for name in files:
            probe = folder / f".link-probe-{uuid.uuid4().hex}"
            try:
                os.link(Path(parent) / name, probe, follow_symlinks=False)
            except OSError:
                return False
            probe.unlink()
            return True
    return True  # nothing to link: an empty folder is made, not linked


def stageable(job: Job, folder: Path) -> bool:
    """Tell whether the job's inputs can be staged in `folder`: hard-linked, or else small enough to copy."""
    folder.mkdir(parents=True, exist_ok=True)
    if all(links_into(Path(mount.source), folder) for mount in job.mounts):
        return True
    copied = sum(host.usage_of(Path(mount.source), 1_000_000)[0] for mount in job.mounts)
    return copied <= COPY_MAX_BYTES


def stage_copy(source: Path, dest: Path) -> None:
    """Put `source` (a folder or a file) at `dest`: hard links where possible, copies otherwise, links kept.

    Modes are kept, so the job reads exactly what a cold job's read-only bind would let it read.
    """
    info = os.lstat(source)
    if stat.S_ISDIR(info.st_mode):
        dest.mkdir()
        with os.scandir(source) as entries:
            for entry in entries:
                stage_copy(Path(entry.path), dest / entry.name)
        os.chmod(dest, stat.S_IMODE(info.st_mode))
    elif stat.S_ISLNK(info.st_mode):
        os.symlink(os.readlink(source), dest)
    elif stat.S_ISREG(info.st_mode):
        try:
            os.link(source, dest, follow_symlinks=False)
        except OSError:
            shutil.copy2(source, dest, follow_symlinks=False)


def move_output(source: Path, dest: Path) -> None:
    """Move what the job left in its sandbox's output/ into `dest`, never following a symlink it made."""
    with os.scandir(source) as entries:
        for entry in entries:
            target = dest / entry.name
            try:
                os.rename(entry.path, target)
                continue
            except OSError:
                pass  # another file system, or a folder already there: copy it instead
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                target.mkdir(exist_ok=True)
                move_output(Path(entry.path), target)
            elif stat.S_ISLNK(info.st_mode):
                with contextlib.suppress(FileExistsError):
                    os.symlink(os.readlink(entry.path), target)
            elif stat.S_ISREG(info.st_mode):
                shutil.copy2(entry.path, target, follow_symlinks=False)
            # Anything else (a fifo, a socket) is not an output anyone can score; it is left behind.


# --- one pool per backend configuration, shared by every Backend instance of this process ----------------

POOLS: dict[str, SandboxPool[Any]] = {}
POOLS_LOCK = threading.Lock()
P = TypeVar("P", bound=SandboxPool[Any])


class PoolOwner(Protocol):
    """What the shared pools are keyed by: a backend's name and configuration."""

    name: str
    config: SandboxConfig


def pool_key(backend: PoolOwner) -> str:
    config = backend.config
    return json.dumps(
        [
            backend.name,
            str(Path(config.state_dir).absolute()),
            sorted((k, str(v)) for k, v in config.runtime_python.items()),
            sorted(config.docker_images.items()),
            config.warm_pool_size,
            sorted((k, list(v)) for k, v in config.warm_imports.items()),
            repr(config.cluster),
        ]
    )


def shared_pool(backend: PoolOwner, make: Callable[[], P]) -> P:
    """Return this process's pool for the backend's configuration, starting it with `make()` on first use.

    The grading service makes a new Backend for each submission; the pool must outlive them all.
    """
    key = pool_key(backend)
    with POOLS_LOCK:
        pool = POOLS.get(key)
        if pool is None or pool.closed:
            pool = POOLS[key] = make()
        return pool  # type: ignore[return-value]  # one key, one kind of pool: the backend's


def close_pool(backend: PoolOwner) -> None:
    """Stop the pool of the backend's configuration, if one was started."""
    with POOLS_LOCK:
        pool = POOLS.pop(pool_key(backend), None)
    if pool is not None:
        pool.close()


@atexit.register
def close_all() -> None:
    """Stop every pool when the worker exits (bwrap's `--die-with-parent` and docker's expiry cover any other end)."""
    with POOLS_LOCK:
        pools = list(POOLS.values())
        POOLS.clear()
    for pool in pools:
        pool.close()
