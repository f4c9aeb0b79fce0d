"""A job's processes yield the CPU to the worker's own: niced, in a group of lower CPU weight, its quota kept."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from sandbox import Outcome
from sandbox.backends.host import JOB_NICE
from sandbox.cgroups import CPU_PERIOD_US, JOB_CPU_SHARES, JOB_CPU_WEIGHT, ROOT, JobCgroup
from tests.builders.sandbox_jobs import SMALL, processes_marked, run_notebook

pytestmark = pytest.mark.slow
QUOTA = int(SMALL.cpus * CPU_PERIOD_US)


def group_cpu_settings(pid: int) -> dict[str, str]:
    """Read, on the host, the CPU weight and quota of the group that holds `pid`."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):  # v1: the cpu controller's own tree
            folder = ROOT / "cpu" / path.lstrip("/")
            return {name: (folder / name).read_text().strip() for name in ("cpu.shares", "cpu.cfs_quota_us")}
        if controllers == "" and (ROOT / "cgroup.controllers").exists():  # v2: one tree
            folder = ROOT / path.lstrip("/")
            return {name: (folder / name).read_text().strip() for name in ("cpu.weight", "cpu.max")}
    return {}


def watch_for(marker: str, seen: dict[str, str]) -> threading.Thread:
    """Find the job's processes from the host while it runs and record their group's CPU settings."""

    def look() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for pid in processes_marked(marker):
                try:
                    settings = group_cpu_settings(pid)
                except OSError:
                    continue  # that process just ended
                if settings:
                    seen.update(settings)
                    return
            time.sleep(0.1)

    thread = threading.Thread(target=look, daemon=True)
    thread.start()
    return thread


def test_a_notebook_runs_niced_in_a_group_of_lower_cpu_weight_with_its_quota_kept(tmp_path: Path) -> None:
    group = JobCgroup.create(SMALL)
    if group is None or group.cpu is None:
        pytest.skip("no CPU control group can be made here: only the nice value ranks jobs below the worker")
    group.remove()
    marker, seen = uuid.uuid4().hex, {}
    watcher = watch_for(marker, seen)
    result, output, _ = run_notebook(
        tmp_path,
        "bwrap",
        "import os, time\nopen('output/nice', 'w').write(str(os.nice(0)))\ntime.sleep(3)",
        env={"SANDBOX_TEST_MARK": marker},
    )
    watcher.join(timeout=5)
    assert result.outcome is Outcome.OK, result.message
    assert (output / "nice").read_text() == str(JOB_NICE)
    if "cpu.shares" in seen:
        assert seen == {"cpu.shares": str(JOB_CPU_SHARES), "cpu.cfs_quota_us": str(QUOTA)}
    else:
        assert seen == {"cpu.weight": str(JOB_CPU_WEIGHT), "cpu.max": f"{QUOTA} {CPU_PERIOD_US}"}


def test_without_a_control_group_a_notebook_still_runs_niced(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(JobCgroup, "create", classmethod(lambda cls, limits: None))
    result, output, _ = run_notebook(tmp_path, "process", "import os\nopen('output/nice', 'w').write(str(os.nice(0)))")
    assert result.outcome is Outcome.OK, result.message
    assert (output / "nice").read_text() == str(JOB_NICE)
