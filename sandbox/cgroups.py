"""A child control group per job, for memory, process and CPU limits and for killing everything the job started.

Works with cgroup v2 (one unified tree) and with the v1 controllers of hybrid hosts. The group is made under
the worker's own group, so the host's limits on the worker still apply to the job. When the host does not let
us create one (no write access, or v2 controllers not delegated), `JobCgroup.create` returns None and the
backends fall back to rlimits.
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
        name = f"sandbox-{uuid.uuid4().hex[:12]}"
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

    def hit_process_limit(self) -> bool:
        """Tell whether a fork or thread creation was refused by the process limit."""
        return self._counter(self.pids / "pids.events", "max") > 0

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
