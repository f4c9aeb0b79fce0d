"""Hostile notebooks end with the right outcome, the worker survives, and nothing they started is left running."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox import Outcome
from sandbox.cgroups import JobCgroup
from sandbox.jobs import Limits
from tests.builders.sandbox_jobs import SMALL, processes_marked, run_notebook

BACKENDS = ["bwrap", "process"]
pytestmark = pytest.mark.slow


def needs_real_process_limits(backend: str) -> None:
    """Skip, saying why, where the process backend could not stop a bomb without hurting this host."""
    if backend == "process" and JobCgroup.create(Limits()) is None and os.geteuid() == 0:
        pytest.skip("process backend as root without a cgroup: RLIMIT_NPROC and memory rlimits cannot contain it")


def assert_contained(result_outcome: Outcome, expected: Outcome, marker: str, message: str) -> None:
    assert result_outcome is expected, message
    assert processes_marked(marker) == [], "a process of the job outlived it"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fork_bomb_ends_with_processes_outcome(tmp_path: Path, backend: str) -> None:
    needs_real_process_limits(backend)
    result, _, marker = run_notebook(tmp_path, backend, "import os\nwhile True:\n    os.fork()")
    assert_contained(result.outcome, Outcome.PROCESSES, marker, result.message)


# Fork until the cap and swallow every refusal: every copy keeps forking (the classic), or the first one forks
# while its children spin. Nothing in either ever fails.
SWALLOWING_BOMBS = {
    "every-copy-forks": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "children-spin": "import os\nwhile True:\n    try:\n        if os.fork() == 0:\n            while True:\n"
    "                pass\n    except OSError:\n        pass",
}
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
LONG = Limits(**{**SMALL.__dict__, "wall_seconds": 300, "cell_seconds": 300})


def needs_a_process_watch(backend: str) -> None:
    """Skip, saying why, where the cap cannot be watched: bwrap and process read it from the job's cgroup."""
    if backend != "docker" and JobCgroup.create(SMALL) is None:
        pytest.skip("no control group can be made here: without its pids.events the cap cannot be watched")


def assert_a_swallowing_bomb_ends_soon(tmp_path: Path, backend: str, bomb: str) -> None:
    needs_a_process_watch(backend)
    result, _, marker = run_notebook(tmp_path, backend, SWALLOWING_BOMBS[bomb], limits=LONG)
    assert_contained(result.outcome, Outcome.PROCESSES, marker, result.message)
    assert result.duration_s < 30, f"ended after {result.duration_s:.1f} s of a {LONG.wall_seconds:.0f} s wall clock"


# One test per bomb, each taking only (tmp_path, backend): the docker suite runs these cases unchanged.
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bomb_whose_every_copy_swallows_fork_errors_ends_with_processes_long_before_its_wall_clock(
    tmp_path: Path, backend: str
) -> None:
    assert_a_swallowing_bomb_ends_soon(tmp_path, backend, "every-copy-forks")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bomb_whose_children_spin_while_it_swallows_fork_errors_ends_with_processes_long_before_its_wall_clock(
    tmp_path: Path, backend: str
) -> None:
    assert_a_swallowing_bomb_ends_soon(tmp_path, backend, "children-spin")


# A cap of 256, the CPU exercises' default: the bomb whose children spin reaches it only after minutes (its one
# forking process shares its CPU with every child), so the cap's refusals cannot end it soon; its runnable
# threads do (sandbox.backends.host.RunnableRule).
WIDE = Limits(**{**LONG.__dict__, "processes": 256, "memory_bytes": 1 << 30})


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bomb_whose_children_spin_far_below_a_wide_cap_ends_with_processes_within_thirty_seconds(
    tmp_path: Path, backend: str
) -> None:
    needs_a_process_watch(backend)
    result, _, marker = run_notebook(tmp_path, backend, SWALLOWING_BOMBS["children-spin"], limits=WIDE)
    assert_contained(result.outcome, Outcome.PROCESSES, marker, result.message)
    assert result.duration_s < 30, f"ended after {result.duration_s:.1f} s of a {WIDE.wall_seconds:.0f} s wall clock"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_pool_of_two_hundred_waiting_workers_under_a_wide_cap_is_not_ended(tmp_path: Path, backend: str) -> None:
    needs_a_process_watch(backend)
    result, _, marker = run_notebook(tmp_path, backend, ONE_BURST, limits=WIDE)
    assert_contained(result.outcome, Outcome.OK, marker, result.message)
    assert "carried on with 200" in result.log


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_job_that_hits_the_cap_once_and_carries_on_is_not_ended(tmp_path: Path, backend: str) -> None:
    needs_a_process_watch(backend)
    result, _, marker = run_notebook(tmp_path, backend, ONE_BURST, limits=LONG)
    assert_contained(result.outcome, Outcome.OK, marker, result.message)
    assert "carried on with" in result.log


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_memory_bomb_ends_with_memory_outcome(tmp_path: Path, backend: str) -> None:
    needs_real_process_limits(backend)
    result, _, marker = run_notebook(tmp_path, backend, "x = []\nwhile True:\n    x.append(b'x' * (32 << 20))")
    assert_contained(result.outcome, Outcome.MEMORY, marker, result.message)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_endless_loop_ends_with_timeout_naming_the_cell(tmp_path: Path, backend: str) -> None:
    limits = Limits(**{**Limits().__dict__, "cell_seconds": 3, "wall_seconds": 20, "memory_bytes": 256 << 20})
    result, _, marker = run_notebook(tmp_path, backend, "x = 1", "while True: pass", limits=limits)
    assert_contained(result.outcome, Outcome.TIMEOUT, marker, result.message)
    assert result.failed_cell == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_cell_waiting_on_input_ends_as_error(tmp_path: Path, backend: str) -> None:
    result, _, marker = run_notebook(tmp_path, backend, "name = input('your name?')")
    assert_contained(result.outcome, Outcome.ERROR, marker, result.message)
    assert result.failed_cell == 0
    assert "input()" in result.message


@pytest.mark.parametrize("backend", BACKENDS)
def test_printing_two_gigabytes_ends_with_output_outcome_and_a_capped_log(tmp_path: Path, backend: str) -> None:
    result, _, marker = run_notebook(
        tmp_path, backend, "import sys\nfor _ in range(2048):\n    sys.stdout.write('x' * (1 << 20))"
    )
    assert_contained(result.outcome, Outcome.OUTPUT, marker, result.message)
    assert result.log_truncated
    assert len(result.log.encode()) <= 64 * 1024


@pytest.mark.parametrize("backend", BACKENDS)
def test_writing_past_the_log_at_file_descriptor_level_is_a_flood_too(tmp_path: Path, backend: str) -> None:
    result, _, marker = run_notebook(
        tmp_path, backend, "import os\nfor _ in range(4096):\n    os.write(1, b'y' * 65536)"
    )
    assert_contained(result.outcome, Outcome.OUTPUT, marker, result.message)


def test_filling_tmp_ends_with_disk_outcome(tmp_path: Path) -> None:
    result, _, marker = run_notebook(
        tmp_path,
        "bwrap",
        "with open('/tmp/fill', 'wb') as f:\n    for _ in range(64):\n        f.write(b'x' * (1 << 20))",
    )
    assert_contained(result.outcome, Outcome.DISK, marker, result.message)


@pytest.mark.parametrize("backend", BACKENDS)
def test_filling_output_with_one_big_file_ends_with_disk_outcome(tmp_path: Path, backend: str) -> None:
    result, _, marker = run_notebook(
        tmp_path,
        backend,
        "with open('output/big', 'wb') as f:\n    for _ in range(64):\n        f.write(b'x' * (1 << 20))",
    )
    assert_contained(result.outcome, Outcome.DISK, marker, result.message)


@pytest.mark.parametrize("backend", BACKENDS)
def test_filling_output_with_many_files_ends_with_disk_outcome(tmp_path: Path, backend: str) -> None:
    result, output, marker = run_notebook(
        tmp_path,
        backend,
        "for i in range(200):\n    open(f'output/part{i}', 'wb').write(b'x' * (1 << 20))",
    )
    assert_contained(result.outcome, Outcome.DISK, marker, result.message)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_million_files_in_output_end_with_disk_outcome(tmp_path: Path, backend: str) -> None:
    result, output, marker = run_notebook(
        tmp_path, backend, "for i in range(1_000_000):\n    open(f'output/{i}', 'w').close()"
    )
    assert_contained(result.outcome, Outcome.DISK, marker, result.message)
    assert len(os.listdir(output)) < 1_000_000


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_double_forked_daemon_does_not_outlive_the_job(tmp_path: Path, backend: str) -> None:
    if backend == "process" and JobCgroup.create(Limits()) is None:
        pytest.skip("process backend without a cgroup: a daemon that calls setsid() escapes, as documented")
    result, _, marker = run_notebook(
        tmp_path,
        backend,
        "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        os.execvp('sleep', ['sleep', '600'])\n    os._exit(0)\nos.wait()",
        "print('parent done')",
    )
    assert_contained(result.outcome, Outcome.OK, marker, result.message)


@pytest.mark.parametrize("backend", BACKENDS)
def test_os_exit_in_the_kernel_is_an_error_at_that_cell(tmp_path: Path, backend: str) -> None:
    result, _, marker = run_notebook(tmp_path, backend, "x = 1", "import os; os._exit(1)")
    assert_contained(result.outcome, Outcome.ERROR, marker, result.message)
    assert result.failed_cell == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_segfault_in_the_kernel_is_an_error_at_that_cell(tmp_path: Path, backend: str) -> None:
    result, _, marker = run_notebook(tmp_path, backend, "x = 1", "import ctypes; ctypes.string_at(0)")
    assert_contained(result.outcome, Outcome.ERROR, marker, result.message)
    assert result.failed_cell == 1
