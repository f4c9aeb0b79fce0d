"""The program that runs inside a sandbox: execute one notebook or command and report what happened.

Every backend (bwrap, process, docker) starts this module inside its isolation with the runtime's
interpreter, the job's working directory as the current directory, and a clean environment:

    python -m sandbox.runner [--limits JSON] [--env JSON] NOTEBOOK REPORT
    python -m sandbox.runner [--limits JSON] [--env JSON] --command REPORT -- ARGV...
    python -m sandbox.runner [--limits JSON] [--preload MOD,MOD] --warm REPORT
    python -m sandbox.runner [--limits JSON] [--preload MOD,MOD] --warm-request PATH [--ready-file PATH] --warm REPORT

NOTEBOOK is a path relative to the working directory. `--limits` is `json.dumps(dataclasses.asdict(Limits))`
(missing fields take their defaults); `--env` is a JSON object of extra variables for the kernel or command.
REPORT names the report channel: `fd:N` (a file descriptor the runner inherited, e.g. a pipe), `-` (the
runner's own stdout, e.g. `docker run` attached to stdout) or a file path. The runner writes JSON lines to it;
the LAST line is the report (`Report.to_json`), which `read_report` turns back into a `Report`.

`--warm` starts the kernel and imports the `--preload` modules first, writes `{"event": "ready"}` to REPORT,
then reads one JSON line from stdin, `{"notebook": PATH, "limits": {...}, "env": {...}}`, and runs that
notebook on the already warm kernel (the warm pool's sandboxes use this; `env` is applied inside the kernel,
as a started process's environment cannot change). Its wall clock starts when that line arrives.
With `--warm-request PATH` the request is not read from stdin but from the file PATH, waited for (a container
started long before its job has no stdin the worker can write to): the worker writes it whole and renames it
into place. Its `links` object names links to make in the working directory first, `{NAME: TARGET}`, so that
inputs staged in a folder the sandbox already sees appear where a cold job finds them.
With `--ready-file PATH` the runner also creates the empty file PATH once it is ready, for a worker that cannot
read REPORT while the runner waits (a Kubernetes pod's log is read once, after the pod ends; the file lies in
its output/ on the shared volume, and the worker removes it before the hand-over).

`--share-output DIR` (the kubernetes backend's pods, where the worker runs as another uid and shares a group with
the job, see sandbox/backends/kubernetes.py) sets the umask to SHARED_UMASK before anything starts, so what the job
writes is writable by that group, and when the run ends, however it ends, `share_output` first ends every process
left (only where the runner is its container's init, PID 1) and then gives the group rwX on everything this uid
owns under DIR, and DIR's group, without following links and within SHARE_MAX_DEPTH and SHARE_MAX_ENTRIES: a
notebook that changed its umask, chmodded a folder 0500 or chgrp'd its files still leaves them removable by the
worker. A runner killed before that pass (the pod's deadline, the OOM killer, a kernel that kills it) leaves
them as they were: the worker logs what it could not remove.

Before the first cell, hidden setup code (`sandbox.output_guard`) makes the kernel count what it prints and
exit with `FLOOD_EXIT_CODE` once past `output_bytes`; the runner reports that as `output`. Without it,
ipykernel would buffer a print flood until the memory limit ended the job as `memory`.

What the participant's code can and cannot fake: the kernel runs as the same uid as the runner, so it could
kill the runner (the backend then reports an error without a report) or print text that looks like anything.
It cannot write to REPORT: the kernel is started with every descriptor but stdin/stdout/stderr closed, its
stdout/stderr go to a pipe only the runner reads, and the runner makes itself non-dumpable
(prctl PR_SET_DUMPABLE 0) so `/proc/<runner>/fd/N` and ptrace are closed to the kernel. A file path REPORT is
writable by the kernel when it lies inside the sandbox; prefer `fd:N` or `-`. Nothing here is trusted for
scores: grading reads only files in `output/`, and must open them with O_NOFOLLOW, because the job may leave
symlinks there that point at host paths.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import dataclasses
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sandbox import output_guard
from sandbox.jobs import Limits, Outcome

# jsonschema (through nbformat) imports rfc3987_syntax when present, which compiles a grammar for ~5 s on
# every start; the runner validates no IRIs, so keep it out of this process.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

PR_SET_DUMPABLE = 4
# What IPython reports as the value of SystemExit for sys.exit(), sys.exit(0), sys.exit(None) and sys.exit(False).
CLEAN_EXIT_VALUES = {"", "0", "None", "False"}
KERNEL_START_SECONDS = 60.0
SHARED_UMASK = 0o007  # --share-output: files rw and folders rwx for the owner and the shared group, nothing for others
SHARE_MAX_DEPTH = 64  # share_output stops descending below this many levels of folders...
SHARE_MAX_ENTRIES = 50_000  # ...and after this many entries: the worker ends a job past `output_files` (10 000)
REQUEST_POLL_SECONDS = 0.01  # how often a warm runner looks for its request file: a stat, 100 a second


@dataclass(frozen=True)
class Report:
    """What the runner saw; the backend turns it into a `Result`, refining the outcome by measurement."""

    outcome: Outcome
    message: str
    duration_s: float
    log: str = ""
    log_truncated: bool = False
    failed_cell: int | None = None
    traceback: str | None = None
    executed_notebook: dict[str, Any] | None = None
    peak_memory_bytes: int | None = None
    exit_code: int | None = None  # of the kernel or command; negative for a signal

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["outcome"] = self.outcome.value
        return json.dumps(data)


def read_report(text: str) -> Report | None:
    """Return the last report in the runner's JSON-lines output, or None if there is none."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict) or "outcome" not in data:
            continue
        try:
            fields = {f.name for f in dataclasses.fields(Report)}
            kwargs = {k: v for k, v in data.items() if k in fields}
            kwargs["outcome"] = Outcome(kwargs["outcome"])
            return Report(**kwargs)
        except (TypeError, ValueError):
            return None
    return None


def limits_to_json(limits: Limits) -> str:
    """Encode limits for the runner's `--limits` option."""
    return json.dumps(dataclasses.asdict(limits))


def limits_from_json(text: str | None) -> Limits:
    """Decode `--limits`; unknown fields are ignored so an older runner accepts a newer caller."""
    if not text:
        return Limits()
    data = json.loads(text)
    known = {f.name for f in dataclasses.fields(Limits)}
    return Limits(**{k: v for k, v in data.items() if k in known})


MESSAGES = {
    Outcome.OK: "The notebook ran to the end.",
    Outcome.TIMEOUT: "The run took longer than its time limit; make it faster or save your results earlier.",
    Outcome.MEMORY: "The run used more memory than allowed; use smaller batches or fewer copies of the data.",
    Outcome.PROCESSES: "The run started more processes or threads than allowed; use fewer workers.",
    Outcome.OUTPUT: "The run printed more than the log can hold; print less, for example only every epoch.",
    Outcome.DISK: "The run wrote more to disk than allowed; save only what the exercise asks for in output/.",
    Outcome.INFRASTRUCTURE: ("The sandbox failed to run your notebook; this is not your fault, please submit again."),
}


class CapturedLog:
    """The job's stdout and stderr, kept up to a byte limit; going past it is a flood."""

    def __init__(self, limit: int, on_flood: Callable[[], None]) -> None:
        self.limit = limit
        self.on_flood = on_flood
        self.parts: list[str] = []
        self.kept = 0
        self.flooded = False
        self.lock = threading.Lock()

    def add(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        with self.lock:
            if self.flooded:
                return
            room = self.limit - self.kept
            if len(data) > room:
                self.parts.append(data[: max(room, 0)].decode("utf-8", "ignore"))
                self.kept = self.limit
                self.flooded = True
            else:
                self.parts.append(text)
                self.kept += len(data)
                return
        # Outside the lock: the callback kills the writer, which may be blocked on us.
        self.on_flood()

    def text(self) -> str:
        with self.lock:
            return "".join(self.parts)

    def mark_flooded(self) -> None:
        """Record a flood the kernel stopped itself (see `sandbox.output_guard`)."""
        with self.lock:
            self.flooded = True

    def restart(self, limit: int) -> None:
        """Forget what was kept so far and count up to a new limit: a warm sandbox's job has arrived."""
        with self.lock:
            self.limit = limit
            self.parts = []
            self.kept = 0
            self.flooded = False


def read_into_log(fd: int, log: CapturedLog) -> threading.Thread:
    """Copy everything written to `fd` into the log, in a daemon thread (a job's daemon may hold it open)."""

    def pump() -> None:
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                log.add(chunk.decode("utf-8", "replace"))

    thread = threading.Thread(target=pump, name="log-pump", daemon=True)
    thread.start()
    return thread


def make_undumpable() -> None:
    """Close /proc/<runner>/fd and ptrace to processes of the same uid, i.e. the participant's kernel."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the backends that matter all run on Linux


def open_report(target: str) -> TextIO:
    """Open the report channel named on the command line."""
    if target == "-":
        return sys.stdout
    if target.startswith("fd:"):
        return os.fdopen(int(target[3:]), "w", buffering=1)
    return open(target, "w", buffering=1)  # noqa: SIM115 - lives as long as the runner


def classify_error(ename: str, evalue: str, traceback: str) -> Outcome:
    """Tell a resource limit hit from an ordinary exception by the exception it raised."""
    text = f"{ename}: {evalue}\n{traceback}"
    if ename == "MemoryError" or "Cannot allocate memory" in text:
        return Outcome.MEMORY
    if ename == "BlockingIOError" and "Errno 11" in text:
        return Outcome.PROCESSES  # fork/clone/pthread_create failing with EAGAIN: the process limit
    if "[Errno 28]" in text or "[Errno 27]" in text or "[Errno 122]" in text:
        return Outcome.DISK  # ENOSPC, EFBIG, EDQUOT
    return Outcome.ERROR


def kernel_env(extra: Mapping[str, str]) -> dict[str, str]:
    """Build the kernel's environment: the runner's clean one minus its import path, plus the job's."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    env.update(extra)
    return env


def cap_outputs(nb: dict[str, Any], limit: int, total: int | None = None) -> None:
    """Cut every output kept in the executed notebook to `limit` bytes, and all of them to `total`, in place.

    Outputs past `total` are removed; the first cell that loses any gets a note saying how many and why,
    so the stored notebook stays bounded however many outputs a run displays.
    """
    note = "\n[output truncated by the sandbox]\n"
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            kind = out.get("output_type")
            if kind == "stream":
                text = out.get("text", "")
                if isinstance(text, list):
                    text = "".join(text)
                if len(text.encode("utf-8", "replace")) > limit:
                    out["text"] = text.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore") + note
            elif kind == "error":
                tb = out.get("traceback", [])
                if sum(len(line) for line in tb) > limit:
                    out["traceback"] = ["\n".join(tb)[:limit] + note]
            elif "data" in out:
                size = len(json.dumps(out["data"]))
                if size > limit:
                    out["data"] = {"text/plain": f"[output of {size} bytes removed by the sandbox]"}
    if total is not None:
        _cap_notebook(nb, total)


def _cap_notebook(nb: dict[str, Any], total: int) -> None:
    used = 0
    removed = removed_bytes = 0
    noted_cell: dict[str, Any] | None = None
    for cell in nb.get("cells", []):
        kept = []
        for out in cell.get("outputs", []) or []:
            size = len(json.dumps(out))
            if used + size <= total and not removed:
                used += size
                kept.append(out)
            else:
                removed += 1
                removed_bytes += size
                if noted_cell is None:
                    noted_cell = cell
        if "outputs" in cell:
            cell["outputs"] = kept
    if noted_cell is not None:
        noted_cell["outputs"].append(
            {
                "output_type": "stream",
                "name": "stderr",
                "text": f"[{removed} outputs ({removed_bytes / 1e6:.1f} MB) from here on were removed by the "
                f"sandbox: the executed notebook keeps {total / 1e6:.1f} MB of outputs in all]\n",
            }
        )


# --- notebooks ------------------------------------------------------------------------------------------


class NotebookRun:
    """One notebook on one kernel, with the limits enforced from inside the sandbox."""

    def __init__(self, limits: Limits, env: Mapping[str, str], preload: Sequence[str] = ()) -> None:
        self.limits = limits
        self.env = dict(env)
        self.preload = tuple(preload)
        self.started = time.monotonic()
        self.deadline = self.started + limits.wall_seconds
        self.log = CapturedLog(limits.output_bytes, self.kill_kernel)
        self.km: Any = None
        self.kc: Any = None
        self.kernel_pid: int | None = None
        self.wall_expired = False
        self.current_cell: int | None = None

    def kill_kernel(self) -> None:
        """Kill the kernel's whole process group at once (it runs in its own session)."""
        if self.kernel_pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.kernel_pid, signal.SIGKILL)

    async def start_kernel(self) -> None:
        """Start the runtime's python3 kernel with its output sent to the log, then run the preloads."""
        await self.spawn_kernel()
        await self.prepare_kernel()

    async def spawn_kernel(self) -> None:
        """Start the kernel's process; it boots on its own while the runner goes on (see prepare_kernel)."""
        from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager

        class RuntimeKernelOnly(KernelSpecManager):
            """Answer every kernel name with this interpreter's ipykernel: the notebook does not choose."""

            def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
                return KernelSpec(
                    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    display_name="Python 3 (ipykernel)",
                    language="python",
                    resource_dir="",
                )

        # IPC sockets in a private folder: no TCP port that other local users could reach.
        sockets = tempfile.mkdtemp(prefix="kernel-")
        if len(sockets) > 60:  # a unix socket path must fit in 108 bytes, with the kernel's suffixes
            os.rmdir(sockets)
            sockets = tempfile.mkdtemp(prefix="k-", dir="/tmp")  # noqa: S108 - private 0700 folder
        atexit.register(shutil.rmtree, sockets, True)
        self.km = AsyncKernelManager(
            kernel_name="python3",
            kernel_spec_manager=RuntimeKernelOnly(),
            transport="ipc",
            ip=os.path.join(sockets, "kernel"),
        )
        read_end, write_end = os.pipe()
        try:
            await self.km.start_kernel(
                stdin=subprocess.DEVNULL,
                stdout=write_end,
                stderr=write_end,
                cwd=os.getcwd(),
                env=kernel_env(self.env),
            )
        finally:
            os.close(write_end)
        read_into_log(read_end, self.log)
        self.kernel_pid = self.km.provisioner.process.pid

    async def prepare_kernel(self) -> None:
        """Wait until the spawned kernel answers, then run the preloads and install the output guard."""
        await self.connect()
        if self.preload:
            code = "\n".join(f"import {name}" for name in self.preload)
            await self.run_silently(code)
        await self.guard_output()

    async def guard_output(self) -> None:
        """Make the kernel end itself once it has printed more than `output_bytes` (a flood)."""
        await self.run_silently(guard_code(self.limits.output_bytes))

    async def connect(self) -> None:
        """Open the one kernel client that the setup code and nbclient share: shell and iopub only.

        No heartbeat channel: the runner owns the kernel's process and sees it die, and stopping that channel's
        thread cost 0.6 s of every job. No stdin channel: a graded notebook cannot read input. Readiness is
        checked as jupyter_client's wait_for_ready() does (a kernel_info reply on shell, then a message of that
        request on iopub, whose subscription misses what was published before it joined), but without its
        0.2 s waits for iopub to fall silent, which every job paid twice.
        """
        from queue import Empty

        self.kc = self.km.client()
        self.kc.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)  # noqa: S604 - a channel
        give_up = time.monotonic() + KERNEL_START_SECONDS
        while True:
            msg_id = self.kc.kernel_info()
            with contextlib.suppress(Empty):
                while True:  # replies to earlier attempts may still be queued
                    reply = await self.kc.get_shell_msg(timeout=1.0)
                    if reply["parent_header"].get("msg_id") == msg_id:
                        break
                while True:
                    message = await self.kc.get_iopub_msg(timeout=0.5)
                    if message["parent_header"].get("msg_id") == msg_id:
                        return
            if not await self.km.is_alive():
                raise RuntimeError("the kernel died before it answered")
            if time.monotonic() > give_up:
                raise RuntimeError(f"the kernel did not answer within {KERNEL_START_SECONDS:g} s")

    async def run_silently(self, code: str) -> None:
        """Run setup code in the kernel without a trace in the notebook or its history; raise if it fails."""
        from queue import Empty

        msg_id = self.kc.execute(code, silent=True, store_history=False)
        while True:
            try:
                reply = await self.kc.get_shell_msg(timeout=1.0)
            except Empty:
                # A kernel that died here (killed, out of memory while preloading) answers nothing, ever.
                if not await self.km.is_alive():
                    raise RuntimeError("the kernel died while running setup code") from None
                if time.monotonic() > self.deadline:
                    raise RuntimeError("the setup code did not finish within the job's time") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(f"setup code failed: {content.get('ename')}: {content.get('evalue')}")

    def cell_timeout(self, cell: Any) -> float:
        return max(1.0, min(self.limits.cell_seconds, self.deadline - time.monotonic()))

    async def execute(self, nb: Any) -> Report:
        """Run every code cell in order, stop at the first failure, and say how it ended."""
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        run = self
        cell_cap = 4 * self.limits.cell_output_bytes  # memory bound while running; cut exactly at the end
        notebook_cap = 2 * self.limits.notebook_bytes
        stored: dict[int, int] = {}
        dropped: dict[int, int] = {}

        class CappedClient(NotebookClient):
            """nbclient that logs streams as they arrive and stores no more output than the caps allow."""

            def output(self, outs: Any, msg: dict[str, Any], display_id: Any, cell_index: int) -> Any:
                content = msg.get("content", {})
                if msg.get("msg_type") == "stream":
                    run.log.add(content.get("text", ""))
                size = len(json.dumps(content, default=str))
                if stored.get(cell_index, 0) + size > cell_cap or sum(stored.values()) + size > notebook_cap:
                    dropped[cell_index] = dropped.get(cell_index, 0) + 1
                    return None
                stored[cell_index] = stored.get(cell_index, 0) + size
                return super().output(outs, msg, display_id, cell_index)

        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }

        def on_cell_start(cell: Any, cell_index: int) -> None:
            run.current_cell = cell_index

        client = CappedClient(
            nb,
            km=self.km,
            timeout_func=self.cell_timeout,
            allow_errors=False,
            shutdown_kernel="immediate",
            startup_timeout=int(KERNEL_START_SECONDS),
            on_cell_start=on_cell_start,
        )
        client.kc = self.kc  # already connected and ready: nbclient then opens no client of its own
        outcome, message, traceback = Outcome.OK, MESSAGES[Outcome.OK], None
        try:
            await client.async_execute()
        except CellTimeoutError as exc:
            outcome, traceback = Outcome.TIMEOUT, str(exc)
            if time.monotonic() >= self.deadline - 1:
                message = MESSAGES[Outcome.TIMEOUT]
            else:
                message = (
                    f"Cell {self.current_cell} ran longer than {self.limits.cell_seconds:g} s; "
                    "make it faster or split the work."
                )
        except DeadKernelError as exc:
            outcome, traceback = Outcome.ERROR, str(exc)
            message = (
                f"The Python kernel died while running cell {self.current_cell} "
                "(a crash, os._exit, or a killed process); check that cell."
            )
        except CellExecutionError as exc:
            traceback = exc.traceback
            outcome = classify_error(exc.ename, exc.evalue, exc.traceback)
            if exc.ename == "SystemExit" and exc.evalue.strip() in CLEAN_EXIT_VALUES:
                # sys.exit(0) or sys.exit() stops the notebook as exit() does: graded on what it wrote
                outcome, traceback = Outcome.OK, None
                message = (
                    f"The notebook stopped cleanly at cell {self.current_cell} (sys.exit); later cells did not run."
                )
            elif exc.ename == "SystemExit":
                message = f"Cell {self.current_cell} stopped the notebook with sys.exit({exc.evalue.strip()[:200]})."
            elif exc.ename == "StdinNotImplementedError":
                message = f"Cell {self.current_cell} waits for input(); notebooks cannot read input when graded."
            elif outcome is Outcome.ERROR:
                said = f": {exc.evalue}" if exc.evalue.strip() else ""  # `raise NotImplementedError` says nothing
                message = f"Cell {self.current_cell} raised {exc.ename}{said}"[:500]
            else:
                message = MESSAGES[outcome]
        finally:
            self.kill_kernel()
        exit_code = None
        process = getattr(self.km.provisioner, "process", None) if self.km.provisioner else None
        if process is not None:
            try:
                exit_code = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                exit_code = None
        if exit_code == output_guard.FLOOD_EXIT_CODE:
            self.log.mark_flooded()  # the kernel counted its own flood and ended itself
        if self.log.flooded:
            outcome, message = Outcome.OUTPUT, MESSAGES[Outcome.OUTPUT]
        elif self.wall_expired:
            outcome, message = Outcome.TIMEOUT, MESSAGES[Outcome.TIMEOUT]
        for cell_index, count in dropped.items():
            nb.cells[cell_index].outputs.append(
                nbformat.v4.new_output(
                    "stream",
                    name="stderr",
                    text=f"[{count} more outputs of this cell were not kept by the sandbox: the executed notebook "
                    "keeps a bounded amount of output per cell and in all]\n",
                )
            )
        executed = nbformat.from_dict(nb)
        data = json.loads(nbformat.writes(executed))
        cap_outputs(data, self.limits.cell_output_bytes, self.limits.notebook_bytes)
        return Report(
            outcome=outcome,
            message=message,
            duration_s=time.monotonic() - self.started,
            log=self.log.text(),
            log_truncated=self.log.flooded,
            failed_cell=None if outcome is Outcome.OK else self.current_cell,
            traceback=traceback,
            executed_notebook=data,
            peak_memory_bytes=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 or None,
            exit_code=exit_code,
        )

    def watch_wall_clock(self) -> None:
        """Kill the kernel when the whole run passes its wall-clock limit, whatever it is doing."""

        def expire() -> None:
            self.wall_expired = True
            self.kill_kernel()

        timer = threading.Timer(max(0.0, self.deadline - time.monotonic()) + 2.0, expire)
        timer.daemon = True
        timer.start()


def guard_code(limit: int) -> str:
    """Return hidden setup code that installs `sandbox.output_guard` in the kernel with this limit.

    It runs in a namespace of its own, so the participant's namespace gains no names.
    """
    source = Path(output_guard.__file__).read_text()
    call = f"\ninstall_output_guard({int(limit)}, {output_guard.FLOOD_EXIT_CODE})\n"
    return f"exec({source + call!r}, {{'__name__': 'sandbox_output_guard'}})"


def load_notebook(path: Path) -> Any:
    import nbformat

    return nbformat.read(str(path), as_version=4)


async def run_notebook(path: Path, limits: Limits, env: Mapping[str, str]) -> Report:
    """Run the notebook at `path` on a fresh kernel."""
    started = time.monotonic()
    run = NotebookRun(limits, env)
    run.watch_wall_clock()

    def kernel_failed(exc: Exception) -> Report:
        run.kill_kernel()
        return Report(
            Outcome.INFRASTRUCTURE,
            f"{MESSAGES[Outcome.INFRASTRUCTURE]} (kernel did not start: {exc})",
            time.monotonic() - started,
            log=run.log.text(),
        )

    try:
        await run.spawn_kernel()
    except Exception as exc:
        return kernel_failed(exc)
    # The kernel boots in its own process meanwhile (half a second): read the notebook and import nbclient now.
    try:
        nb = load_notebook(path)
    except Exception as exc:  # any unreadable notebook is the participant's to fix
        run.kill_kernel()
        return Report(Outcome.ERROR, f"The notebook could not be read ({exc}); save it again.", 0.0)
    try:
        import nbclient  # noqa: F401

        await run.prepare_kernel()
    except Exception as exc:
        return kernel_failed(exc)
    return await run.execute(nb)


def wait_for_request(path: Path) -> str:
    """Wait for the request file to appear and return its text (the worker renames it into place whole)."""
    while True:
        try:
            return path.read_text()
        except FileNotFoundError:
            time.sleep(REQUEST_POLL_SECONDS)


def make_links(links: Mapping[str, str]) -> None:
    """Make the request's links in the working directory: plain names only, pointing into the stage."""
    for name, target in links.items():
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"not a plain name: {name!r}")
        os.symlink(target, name)


async def run_warm(
    limits: Limits,
    preload: Sequence[str],
    report: TextIO,
    request_path: Path | None = None,
    ready_path: Path | None = None,
) -> Report:
    """Start the kernel and preload, announce readiness, then run the one notebook that arrives on stdin.

    With `request_path`, the notebook's request arrives in that file instead; with `ready_path`, readiness is
    also announced by creating that file (see the module's docstring).
    """
    run = NotebookRun(limits, {}, preload)
    run.deadline = time.monotonic() + 3600.0  # warming up has no job clock yet
    try:
        await run.start_kernel()
    except Exception as exc:
        run.kill_kernel()
        return Report(Outcome.INFRASTRUCTURE, f"{MESSAGES[Outcome.INFRASTRUCTURE]} ({exc})", 0.0)
    report.write(json.dumps({"event": "ready"}) + "\n")
    report.flush()
    if ready_path is not None:
        ready_path.touch()
    loop = asyncio.get_running_loop()
    if request_path is not None:
        line = await loop.run_in_executor(None, wait_for_request, request_path)
    else:
        line = await loop.run_in_executor(None, sys.stdin.readline)
    if not line.strip():
        run.kill_kernel()
        return Report(Outcome.INFRASTRUCTURE, "The warm sandbox was stopped before a job arrived.", 0.0)
    job = json.loads(line)
    make_links(job.get("links") or {})
    run.limits = limits_from_json(json.dumps(job.get("limits") or {}))
    run.log.restart(run.limits.output_bytes)  # what warming up printed is not the job's
    run.started = time.monotonic()
    run.deadline = run.started + run.limits.wall_seconds
    run.watch_wall_clock()
    await run.guard_output()
    if job.get("env"):
        await run.run_silently(f"import os; os.environ.update({dict(job['env'])!r})")
    try:
        nb = load_notebook(Path(job["notebook"]))
    except Exception as exc:
        run.kill_kernel()
        return Report(Outcome.ERROR, f"The notebook could not be read ({exc}); save it again.", 0.0)
    return await run.execute(nb)


# --- commands -------------------------------------------------------------------------------------------


def run_command(argv: Sequence[str], limits: Limits, env: Mapping[str, str]) -> Report:
    """Run a plain command in the working directory with the same log and clock rules as a notebook."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=kernel_env(env),
        )
    except OSError as exc:
        return Report(Outcome.ERROR, f"The command could not start: {exc}.", 0.0)

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    log = CapturedLog(limits.output_bytes, kill)
    assert proc.stdout is not None
    pump = read_into_log(os.dup(proc.stdout.fileno()), log)
    proc.stdout.close()
    timed_out = False
    try:
        code = proc.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill()
        code = proc.wait()
    kill()  # whatever it left in its session goes too
    pump.join(timeout=2)
    if log.flooded:
        outcome, message = Outcome.OUTPUT, MESSAGES[Outcome.OUTPUT]
    elif timed_out:
        outcome, message = Outcome.TIMEOUT, MESSAGES[Outcome.TIMEOUT]
    elif code == 0:
        outcome, message = Outcome.OK, "The command finished successfully."
    else:
        outcome = classify_error("", "", log.text()[-4000:])
        if outcome is Outcome.ERROR:
            message = f"The command ended with exit status {code}; read its log."
        else:
            message = MESSAGES[outcome]
    return Report(
        outcome=outcome,
        message=message,
        duration_s=time.monotonic() - started,
        log=log.text(),
        log_truncated=log.flooded,
        peak_memory_bytes=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 or None,
        exit_code=code,
    )


# --- the output a worker of another uid removes ---------------------------------------------------------------


def share_output(top: Path) -> int:
    """End every process left, then give `top`'s group rwX on what this uid owns under it; return entries fixed.

    Processes: only when this runner is its container's init (PID 1, as in a kubernetes pod), `kill(-1, SIGKILL)`
    ends every other process in the container, so nothing the notebook left running can chmod after this pass;
    anywhere else the runner is not alone with its uid and ends nothing more than it already did.
    Then, without following links: each folder and file this uid owns gets `top`'s group (when it differs and this
    uid may chgrp to it), g+rw, g+x where the owner has x, and folders also g+s, so the group of the worker that
    staged `top` can remove them. Folders are opened (u+rwx) before they are walked. At most SHARE_MAX_DEPTH levels
    and SHARE_MAX_ENTRIES entries; what lies beyond stays as it is. Never raises: it runs after the report is made.
    """
    if os.getpid() == 1:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
    fixed = 0
    with contextlib.suppress(OSError):
        group = top.stat().st_gid
        uid = os.geteuid()
        fixed += share_entry(top, uid, group)
        seen = 0
        for folder, dirs, files in os.walk(top, followlinks=False):
            depth = len(Path(folder).relative_to(top).parts)
            for name in dirs + files:
                seen += 1
                if seen > SHARE_MAX_ENTRIES:
                    return fixed
                fixed += share_entry(Path(folder) / name, uid, group)
            if depth + 1 >= SHARE_MAX_DEPTH:
                dirs[:] = []
    return fixed


def share_entry(path: Path, uid: int, group: int) -> int:
    """Give `group` rwX on `path` when this uid owns it and it is a file or folder (not a link); return 1 if changed."""
    try:
        status = path.lstat()
    except OSError:
        return 0
    mode = stat.S_IMODE(status.st_mode)
    if status.st_uid != uid or not (stat.S_ISDIR(status.st_mode) or stat.S_ISREG(status.st_mode)):
        return 0
    if stat.S_ISDIR(status.st_mode):
        wanted = mode | stat.S_IRWXU | stat.S_IRWXG | stat.S_ISGID
    else:
        wanted = mode | stat.S_IRGRP | stat.S_IWGRP | (stat.S_IXGRP if mode & stat.S_IXUSR else 0)
    changed = 0
    if status.st_gid != group:
        with contextlib.suppress(OSError):
            os.chown(path, -1, group, follow_symlinks=False)
            changed = 1
    if wanted != mode or changed:  # a chown by a non-root owner clears set-id bits: set the mode after it
        with contextlib.suppress(OSError):
            os.chmod(path, wanted)
            changed = 1
    return changed


# --- entry point ----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> dict[str, Any]:
    """Parse the command line described in the module docstring."""
    args = list(argv)
    command: list[str] | None = None
    if "--" in args:
        cut = args.index("--")
        args, command = args[:cut], args[cut + 1 :]
    opts: dict[str, Any] = {
        "limits": None,
        "env": "{}",
        "preload": "",
        "command": False,
        "warm": False,
        "warm-request": None,
        "ready-file": None,
        "share-output": None,
    }
    positional: list[str] = []
    while args:
        arg = args.pop(0)
        if arg in ("--limits", "--env", "--preload", "--warm-request", "--ready-file", "--share-output"):
            if not args:
                raise SystemExit(f"sandbox.runner: {arg} needs a value")
            opts[arg[2:]] = args.pop(0)
        elif arg in ("--command", "--warm"):
            opts[arg[2:]] = True
        else:
            positional.append(arg)
    if opts["command"]:
        if len(positional) != 1 or not command:
            raise SystemExit("usage: python -m sandbox.runner [--limits JSON] --command REPORT -- ARGV...")
        opts["report"], opts["argv"] = positional[0], command
    elif opts["warm"]:
        if len(positional) != 1:
            raise SystemExit("usage: python -m sandbox.runner [--preload MODS] --warm REPORT")
        opts["report"] = positional[0]
    else:
        if len(positional) != 2:
            raise SystemExit("usage: python -m sandbox.runner [--limits JSON] [--env JSON] NOTEBOOK REPORT")
        opts["notebook"], opts["report"] = positional
    return opts


def main(argv: Sequence[str] | None = None) -> int:
    """Run what the command line asks for and write the report; exit 0 whenever a report was written."""
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    make_undumpable()
    report = open_report(opts["report"])
    limits = limits_from_json(opts["limits"])
    env = json.loads(opts["env"])
    shared = Path(opts["share-output"]) if opts["share-output"] else None
    if shared is not None:
        os.umask(SHARED_UMASK)
    try:
        if opts["command"]:
            result = run_command(opts["argv"], limits, env)
        elif opts["warm"]:
            preload = [m for m in opts["preload"].split(",") if m]
            request = Path(opts["warm-request"]) if opts["warm-request"] else None
            ready = Path(opts["ready-file"]) if opts["ready-file"] else None
            result = asyncio.run(run_warm(limits, preload, report, request, ready))
        else:
            result = asyncio.run(run_notebook(Path(opts["notebook"]), limits, env))
    except Exception as exc:  # the runner's own failure is the sandbox's fault, never the participant's
        result = Report(Outcome.INFRASTRUCTURE, f"{MESSAGES[Outcome.INFRASTRUCTURE]} (runner: {exc!r})", 0.0)
    finally:
        if shared is not None:
            share_output(shared)
    report.write(result.to_json() + "\n")
    report.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
