"""Sandboxes on this host (bwrap, process, the warm pool): start the runner, watch it, and judge how it ended."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.backends.base import DIAGNOSTIC_BYTES, REPORT_MAX_BYTES, SANDBOX_PACKAGE, WALL_GRACE_S
from sandbox.cgroups import JobCgroup, remove_leftover_groups
from sandbox.jobs import Job, Limits, Outcome, Result
from sandbox.runner import MESSAGES, limits_to_json, read_report

log = logging.getLogger(__name__)

NOBODY = 65534
WATCH_INTERVAL_S = 0.2
# A job whose forks the process limit keeps refusing is ended: a notebook that forks up to the cap and swallows
# the errors otherwise spins its ~250 processes until the wall clock (ten minutes), loading the whole host. "Keeps"
# means: within PROCESS_CAP_SLACK of the cap for PROCESS_CAP_SUSTAIN_S, with PROCESS_CAP_REFUSALS refusals
# meanwhile. A job that hits the cap once (a pool sized past it) and carries on, even at the cap, is not ended.
# The refusals are counted, not timed: each failed fork copies the whole address space before the kernel refuses
# it, so a bomb's parent, sharing one CPU with its spinning children, tries only every second or two.
# One second, measured (docs/benchmarks.md, bench/fork_bomb.py): a bomb's fury, not its length, slows the jobs
# beside it; ended after 3 s at the cap an honest job beside it took 2.1x its time alone, after 1 s 1.28x.
PROCESS_CAP_SUSTAIN_S = 1.0
PROCESS_CAP_REFUSALS = 3
PROCESS_CAP_SLACK = 2
# A bomb whose children only spin reaches a cap of 256 slowly (87-168 s measured: its one forking process shares
# its CPU with every child), slowing the jobs beside it all that time without a single refusal. So a job is also
# ended when more of its threads than RUNNABLE_PER_CPU per CPU of its quota (at least RUNNABLE_MIN) stay runnable
# for RUNNABLE_SUSTAIN_S. A kernel's such bomb has 16 spinning children after about 5 s (about 40 after 10 s).
# Honest jobs keep far fewer wanting one CPU: workers that wait (a pool at its cap) are not runnable, and BLAS,
# OpenMP and TensorFlow's op pool are told the job's CPU count instead of the host's (base.job_env). What this
# still ends: a notebook that runs more than 16 busy workers per CPU, e.g. multiprocessing.Pool() on a host of
# more than 16 cores, which the message tells to use fewer workers.
RUNNABLE_PER_CPU = 16
RUNNABLE_MIN = 16
RUNNABLE_SUSTAIN_S = 1.0
RUNNABLE_EVERY_S = 0.5  # each look reads every thread's stat: less often than the cap's counters
# Jobs run niced: the cgroup's CPU weight ranks the job against other groups, the nice value ranks its processes
# against the worker's own where no cgroup can be made.
JOB_NICE = 10

# Join the cgroups named before "--" (as root, before dropping privileges), then run the rest.
JOIN_CGROUPS = 'while [ "$1" != "--" ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
JOIN_FAILED = 125


@dataclass(frozen=True)
class Runtime:
    """Where a runtime's interpreter lives: the venv and the installation it was made from."""

    executable: Path
    prefix: Path
    base_prefix: Path


@functools.cache
def inspect_runtime(python: Path) -> Runtime:
    """Ask the interpreter where it lives (a venv's python is often a symlink into another prefix)."""
    out = subprocess.run(
        [str(python), "-c", "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix]))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    prefix, base = json.loads(out)
    return Runtime(executable=Path(python).absolute(), prefix=Path(prefix), base_prefix=Path(base))


def runner_args(job: Job, report_fd: int, notebook_name: str | None) -> list[str]:
    """Return the runner's arguments (after `python -m sandbox.runner`) for this job."""
    args = ["--limits", limits_to_json(job.limits)]
    if job.command is not None:
        return [*args, "--command", f"fd:{report_fd}", "--", *job.command]
    assert notebook_name is not None
    return [*args, notebook_name, f"fd:{report_fd}"]


def rlimit_args(limits: Limits, with_cgroup: bool) -> list[str]:
    """Return a `prlimit` prefix: always file size and core dumps; memory and processes when no cgroup does it."""
    args = ["prlimit", f"--fsize={limits.disk_bytes}", "--core=0"]
    if not with_cgroup:
        # Per process, not per job: the weaker fallback. RLIMIT_DATA counts heap and private mappings.
        args += [f"--data={limits.memory_bytes}", f"--nproc={limits.processes}"]
    return [*args, "--"]


def usage_of(folder: Path, stop_at_entries: int) -> tuple[int, int]:
    """Return (bytes on disk, entries) under `folder`, never following symlinks; stop counting past a bound."""
    total, entries = 0, 0
    stack = [folder]
    while stack and entries <= stop_at_entries:
        current = stack.pop()
        with contextlib.suppress(OSError), os.scandir(current) as it:
            for entry in it:
                entries += 1
                with contextlib.suppress(OSError):
                    st = entry.stat(follow_symlinks=False)
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
    return total, entries


class OutputWatch:
    """Stop the job as soon as output/ holds more bytes or entries than allowed."""

    def __init__(self, folder: Path, limits: Limits, on_full: Callable[[], None]) -> None:
        self.folder = folder
        self.limits = limits
        self.on_full = on_full
        self.full = False
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.watch, name="output-watch", daemon=True)

    def watch(self) -> None:
        while not self.stopped.wait(WATCH_INTERVAL_S):
            if self.over():
                self.full = True
                self.on_full()
                return

    def over(self) -> bool:
        used, entries = usage_of(self.folder, self.limits.output_files)
        return used > self.limits.disk_bytes or entries > self.limits.output_files

    def __enter__(self) -> OutputWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        if not self.full and self.over():
            self.full = True  # filled in the last moments before the end


class ProcessCapRule:
    """Tell from successive readings of a job's process count, cap and refusals whether it keeps hitting the cap."""

    def __init__(self) -> None:
        self.at_cap_since: float | None = None
        self.refusals_then = 0

    def keeps_hitting(self, processes: int, limit: int, refusals: int, now: float) -> bool:
        if processes + PROCESS_CAP_SLACK < limit:
            self.at_cap_since = None
            return False
        if self.at_cap_since is None:
            self.at_cap_since, self.refusals_then = now, refusals
            return False
        return (
            now - self.at_cap_since >= PROCESS_CAP_SUSTAIN_S and refusals - self.refusals_then >= PROCESS_CAP_REFUSALS
        )


class RunnableRule:
    """Tell from successive counts of a job's runnable threads whether it keeps far more of them than its CPUs."""

    def __init__(self, cpus: float) -> None:
        self.limit = max(RUNNABLE_MIN, int(RUNNABLE_PER_CPU * cpus))
        self.over_since: float | None = None

    def keeps_spinning(self, runnable: int, now: float) -> bool:
        if runnable <= self.limit:
            self.over_since = None
            return False
        if self.over_since is None:
            self.over_since = now
        return now - self.over_since >= RUNNABLE_SUSTAIN_S


class ProcessCapWatch:
    """End the job once its cgroup's process limit keeps refusing forks (see ProcessCapRule), or once it keeps far
    more threads runnable than its CPUs (see RunnableRule)."""

    def __init__(self, cgroup: JobCgroup | None, on_capped: Callable[[], None], cpus: float = 1.0) -> None:
        self.cgroup = cgroup
        self.on_capped = on_capped
        self.cpus = cpus
        self.capped = False
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.watch, name="process-cap-watch", daemon=True)

    def watch(self) -> None:
        assert self.cgroup is not None
        rule = ProcessCapRule()
        spinning = RunnableRule(self.cpus)
        next_count = time.monotonic() + RUNNABLE_EVERY_S
        while not self.stopped.wait(WATCH_INTERVAL_S):
            now = time.monotonic()
            counts = self.cgroup.processes_and_limit()
            ended = counts is not None and rule.keeps_hitting(*counts, self.cgroup.process_limit_hits(), now)
            if not ended and now >= next_count and counts is not None and counts[0] > spinning.limit:
                next_count = now + RUNNABLE_EVERY_S
                runnable = self.cgroup.runnable_threads()
                ended = runnable is not None and spinning.keeps_spinning(runnable, now)
            elif counts is not None and counts[0] <= spinning.limit:
                spinning.over_since = None  # too few threads to be over: no need to read their states
            if ended:
                self.capped = True
                self.on_capped()
                return

    def __enter__(self) -> ProcessCapWatch:
        if self.cgroup is not None:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)


@dataclass
class Launch:
    """One started sandbox: what to run, and what was seen while it ran."""

    argv: list[str]
    limits: Limits
    output_dir: Path
    env: dict[str, str]
    cwd: Path | None = None
    pass_fds: tuple[int, ...] = ()
    stdin_text: str | None = None
    cgroup: JobCgroup | None = None
    timed_out: bool = False
    disk_full: bool = False
    process_capped: bool = False
    exit_code: int | None = None
    report_text: str = ""
    diagnostics: str = ""
    leftovers: list[int] = field(default_factory=list)


def start(launch: Launch, report_write_fd: int) -> subprocess.Popen[bytes]:
    """Start the sandbox in its own session, inside the job's cgroup when there is one."""
    join = [str(p) for p in launch.cgroup.procs_files()] if launch.cgroup else []
    diag = tempfile.TemporaryFile()  # noqa: SIM115 - closed by finish()
    proc = subprocess.Popen(
        ["/bin/sh", "-c", JOIN_CGROUPS, "sh", *join, "--", "nice", "-n", str(JOB_NICE), *launch.argv],
        stdin=subprocess.PIPE if launch.stdin_text is not None else subprocess.DEVNULL,
        stdout=diag,
        stderr=diag,
        pass_fds=(report_write_fd, *launch.pass_fds),
        start_new_session=True,
        env=launch.env,
        cwd=launch.cwd,
    )
    proc.diag = diag  # type: ignore[attr-defined]
    return proc


def read_pipe(fd: int, sink: list[bytes]) -> threading.Thread:
    """Collect the report pipe in a thread, up to a bound (a runaway runner cannot fill our memory)."""

    def pump() -> None:
        size = 0
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(1 << 20):
                if size < REPORT_MAX_BYTES:
                    sink.append(chunk)
                size += len(chunk)

    thread = threading.Thread(target=pump, name="report-pipe", daemon=True)
    thread.start()
    return thread


def kill_sandbox(proc: subprocess.Popen[bytes], cgroup: JobCgroup | None) -> None:
    """Kill everything the job runs: its cgroup when it has one, and always the session it started in."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()


def run_launch(launch: Launch, report_fds: tuple[int, int], on_started: Callable[[], None] | None = None) -> None:
    """Run the sandbox to its end within the wall clock, watching output/; fill in what was seen."""
    read_fd, write_fd = report_fds
    chunks: list[bytes] = []
    try:
        proc = start(launch, write_fd)
    finally:
        os.close(write_fd)
    reader = read_pipe(read_fd, chunks)
    if launch.stdin_text is not None and proc.stdin is not None:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(launch.stdin_text.encode())
            proc.stdin.close()
    if on_started:
        on_started()
    watch_launch(launch, proc, reader, chunks)


def watch_launch(launch: Launch, proc: subprocess.Popen[bytes], reader: threading.Thread, chunks: list[bytes]) -> None:
    """Wait for a started sandbox to end within the wall clock, watching output/; fill in what was seen."""
    kill = functools.partial(kill_sandbox, proc, launch.cgroup)
    with (
        OutputWatch(launch.output_dir, launch.limits, kill) as watch,
        ProcessCapWatch(launch.cgroup, kill, launch.limits.cpus) as cap,
    ):
        try:
            launch.exit_code = proc.wait(timeout=launch.limits.wall_seconds + WALL_GRACE_S)
        except subprocess.TimeoutExpired:
            launch.timed_out = True
            kill_sandbox(proc, launch.cgroup)
            launch.exit_code = proc.wait()
    launch.disk_full = watch.full
    launch.process_capped = cap.capped
    kill_sandbox(proc, launch.cgroup)
    if launch.cgroup is not None:
        launch.leftovers = launch.cgroup.kill_all()
        if launch.leftovers:
            log.error("Sandbox processes %s would not die.", launch.leftovers)
    reader.join(timeout=10)
    launch.report_text = b"".join(chunks).decode("utf-8", "replace")
    diag = proc.diag  # type: ignore[attr-defined]
    diag.seek(0)
    launch.diagnostics = diag.read(DIAGNOSTIC_BYTES).decode("utf-8", "replace")
    diag.close()


def judge(launch: Launch, backend: str, duration_s: float, gpu_device: str | None = None) -> Result:
    """Turn the runner's report and what the host measured into the job's result.

    The host's own measurements win over the report: the report comes from inside the sandbox.
    """
    report = read_report(launch.report_text)
    cgroup = launch.cgroup
    outcome = report.outcome if report else None
    message = report.message if report else ""
    if launch.exit_code == JOIN_FAILED and report is None:
        outcome, message = Outcome.INFRASTRUCTURE, MESSAGES[Outcome.INFRASTRUCTURE] + " (cgroup join failed)"
    elif launch.disk_full:
        outcome, message = Outcome.DISK, MESSAGES[Outcome.DISK]
    elif launch.process_capped:
        outcome, message = Outcome.PROCESSES, MESSAGES[Outcome.PROCESSES]
    elif report and report.outcome is Outcome.OUTPUT:
        pass  # a flood ends with the kernel killed; that is not a memory or process problem
    elif cgroup is not None and cgroup.hit_process_limit() and outcome is not Outcome.OK:
        # Before memory: a fork bomb's copies often exhaust memory too, but the processes are the cause.
        outcome, message = Outcome.PROCESSES, MESSAGES[Outcome.PROCESSES]
    elif cgroup is not None and cgroup.oom_killed():
        outcome, message = Outcome.MEMORY, MESSAGES[Outcome.MEMORY]
    elif launch.timed_out:
        outcome, message = Outcome.TIMEOUT, MESSAGES[Outcome.TIMEOUT]
    elif report is None:
        if "bwrap:" in launch.diagnostics or launch.exit_code in (126, 127):
            outcome = Outcome.INFRASTRUCTURE
            message = f"{MESSAGES[Outcome.INFRASTRUCTURE]} ({launch.diagnostics.strip()[:300]})"
        elif launch.exit_code is not None and launch.exit_code < 0 and not report:
            outcome = Outcome.ERROR
            message = "The run was killed before it could report; check what the notebook starts or kills."
        else:
            outcome = Outcome.ERROR
            message = "The sandbox's runner stopped without a report; check what the notebook starts or kills."
    assert outcome is not None
    peak = cgroup.peak_memory() if cgroup is not None else None
    return Result(
        outcome=outcome,
        duration_s=duration_s,
        message=message,
        log=report.log if report else launch.diagnostics,
        log_truncated=report.log_truncated if report else False,
        peak_memory_bytes=peak or (report.peak_memory_bytes if report else None),
        executed_notebook=report.executed_notebook if report else None,
        failed_cell=report.failed_cell if report else None,
        traceback=report.traceback if report else None,
        gpu_device=gpu_device,
        backend=backend,
    )


@contextlib.contextmanager
def job_cgroup(limits: Limits) -> Iterator[JobCgroup | None]:
    """Make the job's cgroup for the duration of the block, or None where the host does not allow it."""
    group = JobCgroup.create(limits)
    try:
        yield group
    finally:
        if group is not None:
            group.kill_all()
            group.remove()


def remove_leftover_cgroups() -> list[str]:
    """Remove the empty job groups that killed workers left behind (the bwrap and process backends' leftovers)."""
    return remove_leftover_groups()


def may_drop_privileges() -> bool:
    """Tell whether we run as root and so can (and must, for RLIMIT_NPROC to bind) run the job as nobody."""
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def prepare_output(folder: Path, owner: int | None) -> None:
    """Create output/ and hand it to the job's uid."""
    folder.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        os.chown(folder, owner, owner)


def interpreter_for(job: Job, runtime_python: Mapping[str, Path]) -> Path | None:
    """Return the interpreter of the job's runtime, or None when the configuration names none."""
    python = runtime_python.get(job.runtime)
    return Path(python) if python else None


def python_path_for_runner() -> str:
    """Return the folder that holds the `sandbox` package, for the process backend's PYTHONPATH."""
    return str(SANDBOX_PACKAGE.parent)


def current_python() -> Path:
    return Path(sys.executable)
