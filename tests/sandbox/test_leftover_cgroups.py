"""The cleanup removes the empty control groups that killed workers left behind, and never a live job's."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import cgroups, get_backend
from sandbox.cgroups import JobCgroup
from sandbox.jobs import Limits
from tests.builders.sandbox_jobs import make_config

HOUR_AGO = time.time() - 3600


@pytest.fixture
def parent() -> Iterator[Path]:
    """A group of the test's own under the worker's pids group, so no other job on this host is touched."""
    probe = JobCgroup.create(Limits())
    if probe is None:
        pytest.skip("no control group can be made here (no write access or controllers not delegated)")
    probe.remove()
    folder = probe.pids.parent / f"leftover-test-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    yield folder
    for child in folder.iterdir():
        if child.is_dir():
            for pid in (child / "cgroup.procs").read_text().split():
                (folder.parent / "cgroup.procs").write_text(pid)  # back out before the group can go
            child.rmdir()
    folder.rmdir()


def dead_owner() -> str:
    """Return `<pid>.<start time>` of a process that has already ended, as a killed worker's groups carry."""
    proc = subprocess.Popen(["sleep", "30"])
    owner = f"{proc.pid}.{cgroups.process_start(proc.pid)}"
    proc.kill()
    proc.wait()
    return owner


def make_group(parent: Path, owner: str, *, made_at: float = HOUR_AGO) -> Path:
    group = parent / f"{cgroups.PREFIX}{owner}-{uuid.uuid4().hex[:12]}"
    group.mkdir()
    os.utime(group, (made_at, made_at))
    return group


def test_an_empty_group_of_a_killed_worker_older_than_a_minute_is_removed(parent: Path) -> None:
    leftover = make_group(parent, dead_owner())
    assert cgroups.remove_leftover_groups([parent]) == [str(leftover)]
    assert not leftover.exists()


def test_a_group_made_under_a_minute_ago_is_kept_even_without_its_worker(parent: Path) -> None:
    young = make_group(parent, dead_owner(), made_at=time.time() - 10)
    assert cgroups.remove_leftover_groups([parent]) == []
    assert young.exists()


def test_a_group_whose_worker_still_runs_is_kept_even_when_empty_and_old(parent: Path) -> None:
    live = make_group(parent, f"{os.getpid()}.{cgroups.process_start(os.getpid())}")
    assert cgroups.remove_leftover_groups([parent]) == []
    assert live.exists()


def test_a_group_that_still_holds_a_process_is_kept(parent: Path) -> None:
    busy = make_group(parent, dead_owner())
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (busy / "cgroup.procs").write_text(str(sleeper.pid))
        assert cgroups.remove_leftover_groups([parent]) == []
        assert busy.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_group_named_before_owners_were_recorded_is_removed_when_empty_and_old(parent: Path) -> None:
    old_style = parent / f"{cgroups.PREFIX}{uuid.uuid4().hex[:12]}"
    old_style.mkdir()
    os.utime(old_style, (HOUR_AGO, HOUR_AGO))
    assert cgroups.remove_leftover_groups([parent]) == [str(old_style)]


def test_a_live_jobs_group_is_never_removed(tmp_path: Path) -> None:
    group = JobCgroup.create(Limits())
    if group is None:
        pytest.skip("no control group can be made here (no write access or controllers not delegated)")
    try:
        for folder in {group.memory, group.pids} | ({group.cpu} if group.cpu else set()):
            os.utime(folder, (HOUR_AGO, HOUR_AGO))
        cgroups.remove_leftover_groups()
        assert group.pids.exists() and group.memory.exists()
    finally:
        group.remove()


@pytest.mark.parametrize("backend", ["bwrap", "process"])
def test_the_periodic_cleanup_of_the_bwrap_and_process_backends_removes_them(
    parent: Path, tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    leftover = make_group(parent, dead_owner())
    monkeypatch.setattr(cgroups, "leftover_parents", lambda: [parent])
    assert get_backend(backend, make_config(tmp_path)).remove_leftovers() == [str(leftover)]
    assert not leftover.exists()
