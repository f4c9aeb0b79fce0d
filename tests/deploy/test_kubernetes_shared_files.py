"""Prove that the worker can remove what a kubernetes job wrote on the shared volume, and the job nothing of its own.

There is no cluster here. Most tests use one uid, so the files group is the test user's own gid (the one group a
process may surely chown to; a cluster's 10002 is checked in tests/deploy/test_kubernetes_manifests.py), and they
assert the modes and groups the worker and the runner leave, which decide what another uid in that group may do:
the staged output/ is setgid to the group and 2770, everything else the worker stages is not group-writable, and
the runner's last pass gives the group rwX on what the notebook locked. Where the tests run as root and setpriv
exists, one test also removes the job's files as deploy/k8s's worker (uid 10000 in group 10002) with `rm -rf`, and
shows that without the last pass it cannot. The runner runs for real, as a pod's main process would, outside any
sandbox.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from sandbox import runner as sandbox_runner
from sandbox.backends import kubernetes as backend
from sandbox.jobs import Mount, Outcome, SandboxConfig
from sandbox.runner import read_report
from sandbox.trees import remove_tree
from tests.builders.notebooks import write_notebook
from tests.deploy.test_kubernetes_backend import notebook_job, options_for
from tests.deploy.test_kubernetes_leftovers import ListedCluster, WallClock

ROOT = Path(__file__).resolve().parents[2]
GROUP = os.getegid()
WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


def a_backend(tmp_path: Path, **changes: object) -> backend.Backend:
    shared = tmp_path / "shared"
    shared.mkdir(exist_ok=True)
    options = options_for(shared, files_group=GROUP, **changes)
    return backend.Backend(
        SandboxConfig(state_dir=tmp_path / "state"), options=options, batch_api=ListedCluster(), core_api=object()
    )


def writable_by_others(top: Path) -> list[str]:
    """Return the entries under `top` (itself included, links excluded) that a group or others may write."""
    found = []
    for path in [top, *top.rglob("*")]:
        if not path.is_symlink() and path.stat().st_mode & WRITABLE_BY_OTHERS:
            found.append(str(path.relative_to(top)))
    return found


def test_output_alone_is_the_groups_setgid_and_the_job_folders_and_runner_copy_are_not_group_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even from a worker with umask 002 and a runner package checked out group-writable."""
    package = tmp_path / "checkout" / "sandbox"
    shutil.copytree(ROOT / "sandbox", package, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [package, *package.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWGRP | stat.S_IWOTH)
    monkeypatch.setattr(backend.base, "SANDBOX_PACKAGE", package)
    outside = tmp_path / "outside-data"  # a mount off the shared volume: copied into the job's folder
    outside.mkdir()
    (outside / "x.csv").write_text("1\n")
    (outside / "x.csv").chmod(0o666)
    sandbox_backend = a_backend(tmp_path)
    shared = tmp_path / "shared"
    previous = os.umask(0o002)
    try:
        job = notebook_job(tmp_path, shared, mounts=(Mount(source=outside, name="data"),))
        cold = sandbox_backend.stage(job, "c" * 32)
        pool = sandbox_backend.stage_pool_pod("p" * 32, job.limits)
    finally:
        os.umask(previous)

    for staging in (cold, pool):
        output = staging.output.stat()
        assert output.st_gid == GROUP
        assert stat.S_IMODE(output.st_mode) == 0o2770  # the worker and the group; setgid: below, the group too
        assert output.st_uid == os.geteuid()  # the worker's: the job cannot chmod output/ itself
        (staging.output / "written-by-the-job").write_text("")
        assert writable_by_others(staging.folder) == ["output"]  # stage, notebook, mounts, .expires: the worker's
    assert (cold.folder / "mounts" / "data" / "x.csv").is_file()
    runner_copy = shared / cold.runner_subpath
    assert (runner_copy / "runner.py").is_file()
    assert writable_by_others(shared / backend.RUNNER_FOLDER) == []
    assert sorted(writable_by_others(shared / backend.JOBS_FOLDER)) == ["c" * 32 + "/output", "p" * 32 + "/output"]


def test_the_job_pod_carries_the_group_never_as_fs_group_and_its_runner_shares_output(tmp_path: Path) -> None:
    sandbox_backend = a_backend(tmp_path)
    options = sandbox_backend.options
    assert options is not None
    job = notebook_job(tmp_path, options.shared_path)
    cold = backend.job_manifest(job, "c" * 32, options, sandbox_backend.stage(job, "c" * 32))
    staging = sandbox_backend.stage_pool_pod("p" * 32, job.limits)
    pooled = backend.pool_manifest("cpu", job.limits, "p" * 32, options, staging, ())
    for manifest in (cold, pooled):
        pod = manifest["spec"]["template"]["spec"]
        assert pod["securityContext"]["supplementalGroups"] == [GROUP]
        assert "fsGroup" not in pod["securityContext"]
        command = pod["containers"][0]["command"]
        at = command.index("--share-output")
        assert command[at + 1] == f"{backend.WORKDIR}/output"

    no_group = options_for(options.shared_path)  # SANDBOX_KUBERNETES_FILES_GROUP=0: as before, output/ is 0777
    pod = backend.job_manifest(job, "n" * 32, no_group, sandbox_backend.stage(job, "n" * 32))["spec"]["template"]
    assert "supplementalGroups" not in pod["spec"]["securityContext"]
    assert "--share-output" not in pod["spec"]["containers"][0]["command"]


def test_a_worker_outside_the_files_group_refuses_to_run_and_says_which_setting(tmp_path: Path) -> None:
    mine = {os.getegid(), *os.getgroups()}
    other = max(mine) + 1
    shared = tmp_path / "shared"
    shared.mkdir()
    options = options_for(shared, files_group=other)
    reason = backend.Backend(SandboxConfig(state_dir=tmp_path), options=options).unavailable_reason()
    assert reason is not None
    assert f"not in the sandbox files group {other}" in reason and "SANDBOX_KUBERNETES_FILES_GROUP" in reason


def run_sharing_output(workdir: Path, notebook_name: str, *options: str) -> None:
    """Run the real runner on the notebook in `workdir` as a pod does (`--share-output output`); assert it ends ok."""
    run = subprocess.run(
        [sys.executable, "-m", "sandbox.runner", *options, "--share-output", "output", notebook_name, "-"],
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = read_report(run.stdout)
    assert report is not None and report.outcome is Outcome.OK, run.stdout + run.stderr


def test_the_runners_last_pass_makes_what_the_notebook_locked_removable_by_the_group(tmp_path: Path) -> None:
    """A notebook that sets umask 077 and makes a subfolder 0500 holding a 0400 file; a link to the worker's file."""
    workdir = tmp_path / "job"
    output = workdir / "output"
    output.mkdir(parents=True)
    output.chmod(0o2770)  # as the worker stages it (the group: this user's own)
    workers = tmp_path / "worker-secret"
    workers.write_text("s")
    workers.chmod(0o600)
    notebook = write_notebook(
        workdir / "notebook.ipynb",
        "import os\n"
        "os.umask(0o077)\n"
        "os.makedirs('output/big/deeper')\n"
        "open('output/big/deeper/blob', 'w').write('x' * 1000)\n"
        "open('output/big/file', 'w').write('x')\n"
        f"os.symlink({str(workers)!r}, 'output/big/link')\n"
        "os.chmod('output/big/file', 0o400)\n"
        "os.chmod('output/big/deeper', 0o500)\n"
        "os.chmod('output/big', 0o500)\n",
    )
    run_sharing_output(workdir, notebook.name, "--limits", '{"wall_seconds": 60}')

    for folder in (output / "big", output / "big" / "deeper"):
        mode = folder.stat().st_mode
        assert mode & stat.S_IRWXG == stat.S_IRWXG and mode & stat.S_IRWXU == stat.S_IRWXU, oct(mode)
        assert mode & stat.S_ISGID and folder.stat().st_gid == GROUP
    for path in (output / "big" / "file", output / "big" / "deeper" / "blob"):
        mode = path.stat().st_mode
        assert mode & (stat.S_IRGRP | stat.S_IWGRP) == stat.S_IRGRP | stat.S_IWGRP, oct(mode)
    assert stat.S_IMODE(workers.stat().st_mode) == 0o600  # the link was not followed
    shutil.rmtree(output)  # plain rmtree, no fixing up: the modes the runner left let the folders be emptied
    assert workers.read_text() == "s"


WORKER_UID, FILES_GROUP = 10000, 10002  # deploy/k8s's worker and files group


def remove_as_the_worker(path: Path) -> subprocess.CompletedProcess[str]:
    """Run `rm -rf path` as deploy/k8s's worker: uid 10000, its own group and the files group only."""
    worker = [f"--reuid={WORKER_UID}", f"--regid={WORKER_UID}", f"--groups={FILES_GROUP}"]
    return subprocess.run(
        ["setpriv", *worker, "rm", "-rf", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root (to stage as another uid) and setpriv (to remove as it): the single-uid test above holds",
)
def test_a_worker_of_another_uid_removes_through_the_group_what_the_job_locked(tmp_path: Path) -> None:
    """Two uids, as in a cluster: the worker (10000, in 10002) stages output/, the job (root here) locks a folder."""
    top = Path(tempfile.mkdtemp(prefix="k8s-files-"))  # pytest's tmp_path is root's 0700: the worker could not enter
    top.chmod(0o755)
    try:
        folders = {}
        for name in ("without-the-last-pass", "with-it"):
            folder = top / name
            (folder / "output").mkdir(parents=True)
            os.chown(folder, WORKER_UID, WORKER_UID)
            os.chown(folder / "output", WORKER_UID, FILES_GROUP)  # as Backend.job_folder makes it
            (folder / "output").chmod(0o2770)
            folders[name] = folder
        locked = folders["without-the-last-pass"] / "output" / "big"
        locked.mkdir()
        (locked / "blob").write_text("x")
        locked.chmod(0o500)
        assert remove_as_the_worker(locked).returncode != 0  # the control: the group alone does not reach it
        assert (locked / "blob").exists()

        workdir = folders["with-it"]
        notebook = write_notebook(
            workdir / "notebook.ipynb",
            "import os\nos.umask(0o077)\nos.makedirs('output/big')\nopen('output/big/blob', 'w').write('x')\n"
            "os.chmod('output/big/blob', 0o400)\nos.chmod('output/big', 0o500)\n",
        )
        run_sharing_output(workdir, notebook.name)
        assert (workdir / "output" / "big").stat().st_gid == FILES_GROUP
        removed = remove_as_the_worker(workdir / "output")
        assert removed.returncode == 0, removed.stderr
        assert not (workdir / "output").exists()
    finally:
        shutil.rmtree(top)


def test_the_last_pass_stops_at_its_depth_and_follows_no_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_runner, "SHARE_MAX_DEPTH", 3)
    top = tmp_path / "output"
    deep = top / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    (top / "elsewhere").symlink_to(tmp_path / "target")
    (tmp_path / "target").mkdir(mode=0o700)
    for folder in (deep, deep.parent, deep.parent.parent, deep.parent.parent.parent):
        folder.chmod(0o700)
    sandbox_runner.share_output(top)
    modes = {p.relative_to(top).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in (top / "a").rglob("*")}
    assert modes["a/b"] & stat.S_IRWXG == stat.S_IRWXG
    assert modes["a/b/c"] & stat.S_IRWXG == stat.S_IRWXG  # the last level walked
    assert modes["a/b/c/d"] == 0o700  # below SHARE_MAX_DEPTH: left as it was
    assert stat.S_IMODE((tmp_path / "target").stat().st_mode) == 0o700


def test_remove_tree_opens_the_folders_it_owns_and_says_whether_the_tree_is_gone(tmp_path: Path) -> None:
    top = tmp_path / "job"
    (top / "output" / "locked" / "inner").mkdir(parents=True)
    (top / "output" / "locked" / "inner" / "blob").write_text("x")
    (top / "output" / "locked" / "inner").chmod(0o500)
    (top / "output" / "locked").chmod(0o000)
    assert remove_tree(top) is True
    assert not top.exists()
    assert remove_tree(top) is True  # gone already


def test_the_cleanup_logs_and_counts_the_folders_it_could_not_remove(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The known limit: a job's uid left files the worker's uid may not delete (here: a removal that fails)."""
    clock = WallClock()
    sandbox_backend = a_backend(tmp_path)
    sandbox_backend.now = clock
    assert sandbox_backend.options is not None
    for job_id in ("a" * 32, "b" * 32):
        sandbox_backend.stage(notebook_job(tmp_path, sandbox_backend.options.shared_path), job_id)
    stuck = sandbox_backend.options.shared_path / backend.JOBS_FOLDER / ("b" * 32)
    real_remove_tree = backend.remove_tree
    monkeypatch.setattr(backend, "remove_tree", lambda path: path != stuck and real_remove_tree(path))

    with caplog.at_level(logging.WARNING, logger=backend.__name__):
        removed = sandbox_backend.remove_leftovers(every=True)

    assert removed == [f"{backend.JOBS_FOLDER}/{'a' * 32}"]
    assert f"Could not remove {stuck}" in caplog.text
    assert f"Could not remove 1 leftover job folder(s) on the shared volume: {backend.JOBS_FOLDER}/{'b' * 32}" in (
        caplog.text
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a 0000 file: the worker's uid is not root in a cluster")
def test_output_the_job_made_unreadable_is_left_behind_and_the_rest_copied_back(tmp_path: Path) -> None:
    """The runner killed before its last pass: a locked file must not end the worker's copy (or the worker)."""
    staged = tmp_path / "staged"
    (staged / "sub").mkdir(parents=True)
    (staged / "predictions.csv").write_text("id,label\n")
    (staged / "sub" / "locked").write_text("x")
    (staged / "sub" / "locked").chmod(0o000)
    entries = backend.copy_output(staged, tmp_path / "copied")
    assert entries == 3
    assert (tmp_path / "copied" / "predictions.csv").read_text() == "id,label\n"
    assert not (tmp_path / "copied" / "sub" / "locked").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the linked file to the worker's uid")
def test_the_last_pass_leaves_a_hard_link_to_a_file_of_another_uid_as_it_is(tmp_path: Path) -> None:
    """A job that hard-links a worker's file into output/ must not have the runner chgrp or chmod that inode."""
    top = tmp_path / "output"
    top.mkdir()
    os.chown(top, os.geteuid(), FILES_GROUP)
    worker_file = tmp_path / "worker-secret"
    worker_file.write_text("the worker's")
    os.chown(worker_file, WORKER_UID, WORKER_UID)
    worker_file.chmod(0o600)
    os.link(worker_file, top / "linked")

    sandbox_runner.share_output(top)

    status = worker_file.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (WORKER_UID, WORKER_UID, 0o600)
