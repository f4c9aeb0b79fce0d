"""A child control group per job, for memory, process and CPU limits and for killing everything the job started.

Works with cgroup v2 (one unified tree) and with the v1 controllers of hybrid hosts. The group is made under
the worker's own group, so the host's limits on the worker still apply to the job. When the host does not let
us create one (no write access, or v2 controllers not delegated), `JobCgroup.create` returns None and the
backends fall back to rlimits.

Jobs get a lower CPU weight than the worker's own processes (and the web's, on a shared host): their quota caps
what one job may take, the weight makes them yield first when the host is busy. Each group's name carries the
creating process's pid and start time, so the periodic cleanup (`remove_leftover_groups`) removes only the
empty groups of workers that are gone, never a live job's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sandbox.jobs import Limits

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
# A quarter of the default weight (v1 cpu.shares 1024, v2 cpu.weight 100): when the worker, the web or another
# service wants the CPU, a job's group yields to them four to one; when they are idle the job still gets its quota.
JOB_CPU_SHARES = 256
JOB_CPU_WEIGHT = 25
PREFIX = "sandbox-"
LEFTOVER_AGE_S = 60.0  # a group is joined within milliseconds of being made: an empty one this old is no job's


def group_name() -> str:
    """Name a new job group after the process that makes it: `sandbox-<pid>.<start time>-<random>`."""
    return f"{PREFIX}{os.getpid()}.{process_start(os.getpid())}-{uuid.uuid4().hex[:12]}"


def process_start(pid: int) -> int | None:
    """Return the process's start time in clock ticks since boot (with the pid, a process's identity)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def owner_alive(name: str) -> bool:
    """Tell whether the process that made the group `name` still runs; a name without an owner has none."""
    owner = name[len(PREFIX) :].split("-", 1)[0]
    pid, dot, start = owner.partition(".")
    if not dot or not pid.isdigit() or not start.isdigit():
        return False
    return process_start(int(pid)) == int(start)


def own_groups() -> dict[str, Path]:
    """Map each controller ("" for the v2 tree) to the folder of the worker's own group."""
    groups: dict[str, Path] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return groups
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            mount = ROOT / name if name else ROOT
            if name == "" and not (ROOT / "cgroup.controllers").exists():
                mount = ROOT / "unified"  # hybrid host: the v2 tree sits beside the v1 controllers
            groups[name] = mount / path.lstrip("/")
    return groups


@dataclass(frozen=True)
class JobCgroup:
    """The job's group: one folder per controller (v1) or a single folder (v2)."""

    memory: Path
    pids: Path
    cpu: Path | None
    v2: bool

    @classmethod
    def create(cls, limits: Limits) -> JobCgroup | None:
        """Make and configure a group for one job, or return None when the host does not allow it."""
        name = group_name()
        groups = own_groups()
        if (ROOT / "cgroup.controllers").exists() and "" in groups:
            return cls._create_v2(groups[""] / name, limits)
        if "memory" in groups and "pids" in groups:
            return cls._create_v1(groups, name, limits)
        return None

    @classmethod
    def _create_v2(cls, path: Path, limits: Limits) -> JobCgroup | None:
        try:
            path.mkdir()
        except OSError:
            return None
        group = cls(memory=path, pids=path, cpu=path, v2=True)
        try:
            (path / "memory.max").write_text(str(limits.memory_bytes))
            (path / "memory.swap.max").write_text("0")  # swap equal to memory: no swap beyond the limit
            (path / "pids.max").write_text(str(limits.processes))
            with contextlib.suppress(OSError):
                (path / "cpu.max").write_text(f"{int(limits.cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}")
            with contextlib.suppress(OSError):
                (path / "cpu.weight").write_text(str(JOB_CPU_WEIGHT))
        except OSError:
            # The parent did not delegate the memory/pids controllers to us: no limits, no group.
            group.remove()
            return None
        return group

    @classmethod
    def _create_v1(cls, groups: dict[str, Path], name: str, limits: Limits) -> JobCgroup | None:
        made: list[Path] = []
        try:
            memory = groups["memory"] / name
            memory.mkdir()
            made.append(memory)
            (memory / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
            # memsw counts memory + swap; equal to the memory limit means no swap at all.
            with contextlib.suppress(OSError):
                (memory / "memory.memsw.limit_in_bytes").write_text(str(limits.memory_bytes))
            pids = groups["pids"] / name
            pids.mkdir()
            made.append(pids)
            (pids / "pids.max").write_text(str(limits.processes))
            cpu: Path | None = None
            if "cpu" in groups:
                with contextlib.suppress(OSError):
                    cpu = groups["cpu"] / name
                    cpu.mkdir()
                    made.append(cpu)
                    (cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
                    (cpu / "cpu.cfs_quota_us").write_text(str(int(limits.cpus * CPU_PERIOD_US)))
                    (cpu / "cpu.shares").write_text(str(JOB_CPU_SHARES))
        except OSError:
            for path in reversed(made):
                with contextlib.suppress(OSError):
                    path.rmdir()
            return None
        return cls(memory=memory, pids=pids, cpu=cpu if cpu in made else None, v2=False)

    def procs_files(self) -> list[Path]:
        """Return the files a process writes its pid into to join the group."""
        folders = {self.memory, self.pids} | ({self.cpu} if self.cpu else set())
        return sorted(folder / "cgroup.procs" for folder in folders)

    def pids_in_group(self) -> list[int]:
        """Return every process still in the group."""
        found: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(OSError):
                found.update(int(p) for p in procs.read_text().split())
        return sorted(found)

    def kill_all(self, wait_s: float = 5.0) -> list[int]:
        """Kill every process in the group until none is left; return the pids that would not die."""
        if self.v2:
            with contextlib.suppress(OSError):
                (self.memory / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + wait_s
        while pids := self.pids_in_group():
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return pids
            time.sleep(0.02)
        return []

    def _counter(self, path: Path, key: str) -> int:
        with contextlib.suppress(OSError, ValueError):
            for line in path.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
        return 0

    def oom_killed(self) -> bool:
        """Tell whether the kernel killed a process of the job for memory."""
        if self.v2:
            return self._counter(self.memory / "memory.events", "oom_kill") > 0
        if self._counter(self.memory / "memory.oom_control", "oom_kill") > 0:
            return True
        # Older v1 kernels have no oom_kill counter; hitting the limit is the next best sign.
        with contextlib.suppress(OSError, ValueError):
            return int((self.memory / "memory.memsw.failcnt").read_text()) > 0
        return False

    def process_limit_hits(self) -> int:
        """Return how many forks or thread creations the process limit has refused so far."""
        return self._counter(self.pids / "pids.events", "max")

    def processes_and_limit(self) -> tuple[int, int] | None:
        """Return how many processes the group holds and its process limit, or None when unreadable."""
        with contextlib.suppress(OSError, ValueError):
            current = int((self.pids / "pids.current").read_text())
            limit = (self.pids / "pids.max").read_text().strip()
            return current, int(limit) if limit != "max" else 1 << 31
        return None

    def runnable_threads(self) -> int | None:
        """Return how many of the group's threads are runnable (running or waiting for a CPU), or None if unreadable.

        Read from each thread's /proc/<tid>/stat: a few hundred small reads for a group at a cap of 256.
        """
        listing = self.pids / ("cgroup.threads" if self.v2 else "tasks")
        try:
            tids = listing.read_text().split()
        except OSError:
            return None
        runnable = 0
        for tid in tids:
            with contextlib.suppress(OSError, IndexError):
                if Path(f"/proc/{tid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R":
                    runnable += 1
        return runnable

    def hit_process_limit(self) -> bool:
        """Tell whether a fork or thread creation was refused by the process limit."""
        return self.process_limit_hits() > 0

    def cpu_weight(self) -> int | None:
        """Return the group's CPU weight as the kernel holds it (v2 cpu.weight, v1 cpu.shares), if it has one."""
        if self.cpu is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            return int((self.cpu / ("cpu.weight" if self.v2 else "cpu.shares")).read_text())
        return None

    def peak_memory(self) -> int | None:
        """Return the most memory the job used at once, when the host keeps that figure."""
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        with contextlib.suppress(OSError, ValueError):
            return int((self.memory / name).read_text())
        return None

    def remove(self) -> None:
        """Remove the group's folders; the processes must be gone."""
        folders = {self.memory, self.pids} | ({self.cpu} if self.cpu else set())
        for folder in folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)  # the last process may still be leaving the group


def leftover_parents() -> list[Path]:
    """Return the folders under which this process makes job groups: one per controller (v1) or the v2 tree."""
    groups = own_groups()
    if (ROOT / "cgroup.controllers").exists() and "" in groups:
        return [groups[""]]
    return sorted({groups[name] for name in ("memory", "pids", "cpu") if name in groups})


def remove_leftover_groups(parents: list[Path] | None = None, older_than_s: float = LEFTOVER_AGE_S) -> list[str]:
    """Remove the empty job groups of workers that are gone, made more than `older_than_s` ago; return their paths.

    A worker killed in the middle of a job cannot remove that job's groups. A group is removed only when no
    process is in it, its maker no longer runs and it is older than a minute, so a live job's group (even one
    made a moment ago and not yet joined, or one whose last process just ended) is never touched; the kernel
    itself refuses to remove a group that still holds a process.
    """
    removed: list[str] = []
    now = time.time()
    for parent in leftover_parents() if parents is None else parents:
        try:
            candidates = [entry for entry in parent.iterdir() if entry.name.startswith(PREFIX) and entry.is_dir()]
        except OSError:
            continue
        for folder in candidates:
            with contextlib.suppress(OSError, ValueError):
                if owner_alive(folder.name) or now - folder.stat().st_mtime < older_than_s:
                    continue
                if (folder / "cgroup.procs").read_text().strip():
                    continue
                folder.rmdir()
                removed.append(str(folder))
    return removed
