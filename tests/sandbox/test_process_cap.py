"""A job that keeps hitting its process cap is ended within seconds with `processes`, not at its wall clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_builders import SMALL, processes_marked, run_notebook

from sandbox import Outcome
from sandbox.cgroups import JobCgroup
from sandbox.jobs import Limits

pytestmark = pytest.mark.slow

LONG = Limits(**{**SMALL.__dict__, "wall_seconds": 300, "cell_seconds": 300})

# Forks until the cap, swallows every refusal and keeps trying; each child spins. Nothing in it ever fails.
SWALLOWING_BOMB = """
import os
while True:
    try:
        if os.fork() == 0:
            while True:
                pass
    except OSError:
        pass
"""

# Starts more workers than the cap allows once, takes the refusal, ends the ones it got and carries on.
ONE_BURST = """
import os, signal, time
children = []
try:
    for _ in range(200):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children.append(pid)
except OSError:
    pass
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
time.sleep(5)
print('carried on with', len(children))
"""


def needs_a_cgroup() -> None:
    if JobCgroup.create(SMALL) is None:
        pytest.skip("no control group can be made here: without its pids.events the cap cannot be watched")


def test_a_bomb_that_swallows_fork_errors_ends_with_processes_long_before_its_wall_clock(tmp_path: Path) -> None:
    needs_a_cgroup()
    result, _, marker = run_notebook(tmp_path, "bwrap", SWALLOWING_BOMB, limits=LONG)
    assert result.outcome is Outcome.PROCESSES, result.message
    assert result.duration_s < 30, f"ended after {result.duration_s:.1f} s of a {LONG.wall_seconds:.0f} s wall clock"
    assert processes_marked(marker) == [], "a process of the job outlived it"


def test_a_job_that_hits_the_cap_once_and_carries_on_is_not_ended(tmp_path: Path) -> None:
    needs_a_cgroup()
    result, _, _ = run_notebook(tmp_path, "bwrap", ONE_BURST, limits=LONG)
    assert result.outcome is Outcome.OK, result.message
    assert "carried on with" in result.log
