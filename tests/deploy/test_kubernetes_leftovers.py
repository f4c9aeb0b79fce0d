"""Prove that the kubernetes backend removes what killed workers left: expired Jobs, and job folders no live job uses.

There is no cluster here. `ListedCluster` answers `list_namespaced_job` with a V1JobList built from the API's own
shapes (deserialized into the client's models, as tests/deploy/test_kubernetes_backend.py does with its
recordings) and notes each deletion; the folders are staged on a temporary "shared volume" by the backend itself,
so each carries the expiry its worker wrote. The wall clock is the test's, handed to the backend as `now`.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from grading import sandboxing
from sandbox.backends import kubernetes as backend
from sandbox.jobs import Limits, SandboxConfig
from tests.deploy.test_kubernetes_backend import notebook_job, options_for

LIMITS = Limits(wall_seconds=60, memory_bytes=512 * 1024 * 1024, disk_bytes=64 * 1024 * 1024, cpus=2.0)
START = 1_800_000_000.0  # Unix seconds when the test's jobs are staged
DELETED = {"apiVersion": "v1", "kind": "Status", "status": "Success"}


class WallClock:
    """Unix time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class ListedCluster:
    """The BatchV1Api calls `remove_leftovers` makes: the namespace's sandbox Jobs, and their deletion."""

    def __init__(self, jobs: list[dict[str, Any]] | None = None, fail: Exception | None = None) -> None:
        self.jobs = jobs or []
        self.fail = fail
        self.selectors: list[str] = []
        self.deleted: list[tuple[str, str, str]] = []

    def list_namespaced_job(self, namespace: str, label_selector: str) -> Any:
        self.selectors.append(label_selector)
        if self.fail is not None:
            raise self.fail
        answer = {"apiVersion": "batch/v1", "kind": "JobList", "metadata": {"resourceVersion": "7"}}
        return ApiClient()._ApiClient__deserialize({**answer, "items": self.jobs}, "V1JobList")

    def delete_namespaced_job(self, name: str, namespace: str, propagation_policy: str) -> Any:
        self.deleted.append((name, namespace, propagation_policy))
        return ApiClient()._ApiClient__deserialize(DELETED, "V1Status")


def listed_job(job_id: str, expires: float | None, *, finished: bool = False, **metadata: Any) -> dict[str, Any]:
    """A sandbox Job as the API lists it: its labels, its expiry annotation, active or succeeded."""
    labels = {"app.kubernetes.io/name": backend.APP_LABEL, backend.JOB_LABEL: job_id, backend.NETWORK_LABEL: "none"}
    meta: dict[str, Any] = {"name": backend.job_name(job_id), "namespace": "ml-infn", "labels": labels, **metadata}
    if expires is not None:
        meta["annotations"] = {backend.EXPIRES_ANNOTATION: str(int(expires))}
    status = {"succeeded": 1, "completionTime": "2027-01-15T08:10:00Z"} if finished else {"active": 1}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {"activeDeadlineSeconds": 70, "template": {"spec": {"containers": []}}},
        "status": {"startTime": "2027-01-15T08:00:00Z", **status},
    }


def make_backend(tmp_path: Path, cluster: ListedCluster, clock: WallClock) -> backend.Backend:
    shared = tmp_path / "shared"
    shared.mkdir(exist_ok=True)
    return backend.Backend(
        SandboxConfig(state_dir=tmp_path), options=options_for(shared), batch_api=cluster, core_api=cluster, now=clock
    )


def staged(sandbox_backend: backend.Backend, tmp_path: Path, job_id: str) -> Path:
    """Stage a cold job's folder as `run` does, and return it."""
    assert sandbox_backend.options is not None
    job = notebook_job(tmp_path, sandbox_backend.options.shared_path, limits=LIMITS)
    return sandbox_backend.stage(job, job_id).folder


def lifetime(sandbox_backend: backend.Backend) -> float:
    assert sandbox_backend.options is not None
    return backend.cold_lifetime(LIMITS, sandbox_backend.options)


def test_each_folder_and_its_job_record_one_expiry_past_the_longest_the_worker_watches(tmp_path: Path) -> None:
    clock = WallClock()
    sandbox_backend = make_backend(tmp_path, ListedCluster(), clock)
    options = sandbox_backend.options
    assert options is not None
    job = notebook_job(tmp_path, options.shared_path, limits=LIMITS)
    staging = sandbox_backend.stage(job, "c" * 32)
    cold = backend.job_manifest(job, "c" * 32, options, staging)
    pool_staging = sandbox_backend.stage_pool_pod("p" * 32, LIMITS)
    pooled = backend.pool_manifest("cpu", LIMITS, "p" * 32, options, pool_staging, ())

    cold_expiry = int((staging.folder / backend.EXPIRES_NAME).read_text())
    pool_expiry = int((pool_staging.folder / backend.EXPIRES_NAME).read_text())
    assert cold["metadata"]["annotations"] == {backend.EXPIRES_ANNOTATION: str(cold_expiry)}
    assert pooled["metadata"]["annotations"] == {backend.EXPIRES_ANNOTATION: str(pool_expiry)}
    # Past a node's wait + the worker's backstop (cold) or the Job's own deadline (pool), with room to copy back.
    watched = options.schedule_seconds + LIMITS.wall_seconds + 2 * backend.WALL_GRACE_S
    assert cold_expiry >= START + watched + backend.LEFTOVER_MARGIN_S
    assert pool_expiry >= START + options.schedule_seconds + cold["spec"]["activeDeadlineSeconds"]
    assert pool_expiry >= START + pooled["spec"]["activeDeadlineSeconds"] + backend.LEFTOVER_MARGIN_S
    # The job cannot write beside output/: its only writable mount is output/ itself.
    mounts = pooled["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    writable = [m["subPath"] for m in mounts if m.get("subPath") and not m.get("readOnly")]
    assert writable == [f"{backend.JOBS_FOLDER}/{'p' * 32}/output"]
    client = ApiClient()
    assert client.sanitize_for_serialization(client._ApiClient__deserialize(cold, "V1Job")) == cold


def test_an_orphan_folder_is_kept_until_its_expiry_and_removed_after_it(tmp_path: Path) -> None:
    clock = WallClock()
    cluster = ListedCluster()  # its worker was killed and its Job is gone
    sandbox_backend = make_backend(tmp_path, cluster, clock)
    folder = staged(sandbox_backend, tmp_path, "a" * 32)
    (folder / "output" / "predictions.csv").write_text("id,label\n")

    clock.now = START + lifetime(sandbox_backend) - 1
    assert sandbox_backend.remove_leftovers() == []
    assert folder.is_dir()

    clock.now = START + lifetime(sandbox_backend) + 1
    assert sandbox_backend.remove_leftovers() == [f"sandbox-jobs/{'a' * 32}"]
    assert not folder.exists()
    assert cluster.deleted == []
    assert cluster.selectors == [f"app.kubernetes.io/name={backend.APP_LABEL}"] * 2


def test_a_fresh_folder_is_kept_before_and_while_its_job_runs(tmp_path: Path) -> None:
    clock = WallClock()
    cluster = ListedCluster()
    sandbox_backend = make_backend(tmp_path, cluster, clock)
    folder = staged(sandbox_backend, tmp_path, "b" * 32)

    clock.now = START + 5  # staged, its Job not created yet
    assert sandbox_backend.remove_leftovers() == []
    cluster.jobs = [listed_job("b" * 32, START + lifetime(sandbox_backend))]
    clock.now = START + 60  # its Job runs
    assert sandbox_backend.remove_leftovers() == []
    assert folder.is_dir() and (folder / "notebook.ipynb").is_file()
    assert cluster.deleted == []


def test_an_old_folder_whose_job_still_runs_is_kept(tmp_path: Path) -> None:
    clock = WallClock()
    cluster = ListedCluster()
    sandbox_backend = make_backend(tmp_path, cluster, clock)
    folder = staged(sandbox_backend, tmp_path, "c" * 32)
    # The folder's own expiry has passed, but the cluster still runs its Job (its deadline was not enforced, or the
    # clocks disagree): the pod may still write into output/, so the folder stays until the Job has finished.
    clock.now = START + lifetime(sandbox_backend) + 3600
    cluster.jobs = [listed_job("c" * 32, clock.now + 600)]

    assert sandbox_backend.remove_leftovers() == []
    assert folder.is_dir()


def test_a_job_past_its_expiry_is_deleted_and_a_live_one_untouched(tmp_path: Path) -> None:
    clock = WallClock()
    clock.now = START + 7200
    expired, running = "d" * 32, "e" * 32
    cluster = ListedCluster(
        [
            listed_job(expired, START, finished=True),  # finished, and this cluster's TTL controller is off
            listed_job(running, START + 7200 + 300),
        ]
    )
    sandbox_backend = make_backend(tmp_path, cluster, clock)

    assert sandbox_backend.remove_leftovers() == [backend.job_name(expired)]
    assert cluster.deleted == [(backend.job_name(expired), "ml-infn", "Background")]


def test_a_job_that_records_no_expiry_counts_from_its_creation_deadline_and_ttl(tmp_path: Path) -> None:
    # A Job an older worker made, without the annotation: a 70 s deadline, a 300 s TTL.
    created = START - 7200
    stamp = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = listed_job("f" * 32, None, finished=True, creationTimestamp=stamp)
    cluster = ListedCluster([old])
    clock = WallClock()
    sandbox_backend = make_backend(tmp_path, cluster, clock)

    clock.now = created + 70 + backend.TTL_AFTER_FINISHED_S + backend.LEFTOVER_MARGIN_S - 1
    assert sandbox_backend.remove_leftovers() == []
    clock.now += 2
    assert sandbox_backend.remove_leftovers() == [backend.job_name("f" * 32)]


def test_a_finished_job_s_expired_folder_is_removed_with_it(tmp_path: Path) -> None:
    clock = WallClock()
    cluster = ListedCluster()
    sandbox_backend = make_backend(tmp_path, cluster, clock)
    folder = staged(sandbox_backend, tmp_path, "1" * 32)
    clock.now = START + lifetime(sandbox_backend) + 1
    cluster.jobs = [listed_job("1" * 32, START + lifetime(sandbox_backend), finished=True)]

    assert sandbox_backend.remove_leftovers() == [backend.job_name("1" * 32), f"sandbox-jobs/{'1' * 32}"]
    assert not folder.exists()


def test_a_folder_nested_thousands_deep_is_removed(tmp_path: Path) -> None:
    clock = WallClock()
    sandbox_backend = make_backend(tmp_path, ListedCluster(), clock)
    folder = staged(sandbox_backend, tmp_path, "2" * 32)
    nest(folder / "output", 3000)  # deeper than shutil.rmtree's recursion and than PATH_MAX

    clock.now = START + lifetime(sandbox_backend) + 1
    assert sandbox_backend.remove_leftovers() == [f"sandbox-jobs/{'2' * 32}"]
    assert not folder.exists()


def test_a_folder_without_its_expiry_file_counts_from_its_mtime(tmp_path: Path) -> None:
    clock = WallClock()
    sandbox_backend = make_backend(tmp_path, ListedCluster(), clock)
    folder = staged(sandbox_backend, tmp_path, "3" * 32)
    (folder / backend.EXPIRES_NAME).unlink()  # an older worker's folder, or one caught before its file is written
    os.utime(folder, (START, START))

    clock.now = START + backend.UNMARKED_LIFETIME_S - 1
    assert sandbox_backend.remove_leftovers() == []
    clock.now = START + backend.UNMARKED_LIFETIME_S + 1
    assert sandbox_backend.remove_leftovers() == [f"sandbox-jobs/{'3' * 32}"]


def test_every_removes_all_sandbox_jobs_and_folders_as_docker_s_does(tmp_path: Path) -> None:
    clock = WallClock()
    cluster = ListedCluster()
    sandbox_backend = make_backend(tmp_path, cluster, clock)
    folder = staged(sandbox_backend, tmp_path, "4" * 32)
    cluster.jobs = [listed_job("4" * 32, START + lifetime(sandbox_backend))]

    assert sandbox_backend.remove_leftovers(every=True) == [backend.job_name("4" * 32), f"sandbox-jobs/{'4' * 32}"]
    assert not folder.exists()
    assert cluster.deleted == [(backend.job_name("4" * 32), "ml-infn", "Background")]


def test_when_the_api_fails_nothing_is_removed_and_a_warning_says_why(tmp_path: Path, caplog) -> None:
    clock = WallClock()
    cluster = ListedCluster(fail=ApiException(status=403, reason="Forbidden"))
    sandbox_backend = make_backend(tmp_path, cluster, clock)
    folder = staged(sandbox_backend, tmp_path, "5" * 32)
    clock.now = START + lifetime(sandbox_backend) + 1  # expired: only the cluster could say its Job still runs

    with caplog.at_level(logging.WARNING, logger=backend.__name__):
        assert sandbox_backend.remove_leftovers() == []
    assert folder.is_dir()
    assert cluster.deleted == []
    assert "Removed no leftover sandboxes: the Kubernetes API did not list the sandbox Jobs in ml-infn" in caplog.text
    assert "403 Forbidden" in caplog.text


def test_the_periodic_cleanup_survives_an_api_that_fails(tmp_path: Path, monkeypatch, caplog) -> None:
    clock = WallClock()
    cluster = ListedCluster(fail=ConnectionRefusedError("[Errno 111] Connection refused"))
    sandbox_backend = make_backend(tmp_path, cluster, clock)
    folder = staged(sandbox_backend, tmp_path, "6" * 32)
    clock.now = START + lifetime(sandbox_backend) + 1
    monkeypatch.setattr(sandboxing, "sandbox_backend", lambda: sandbox_backend)

    with caplog.at_level(logging.WARNING):
        assert sandboxing.remove_leftover_sandboxes() == []
    assert folder.is_dir()
    assert "Connection refused" in caplog.text


def nest(folder: Path, depth: int) -> None:
    """Nest `depth` folders under `folder` as a job can, one relative step at a time."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=descriptor)
            inner = os.open("d", os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
        with open(os.open("notes.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=descriptor), "w") as notes:
            notes.write("deep\n")
    finally:
        os.close(descriptor)


def test_a_malformed_expiry_file_counts_from_the_mtime_and_never_stops_the_pass(tmp_path: Path) -> None:
    # str.isdigit() accepts "²" and 5000-digit numbers, which int() refuses: one such file raised out of
    # remove_leftovers, and every later round failed the same way, leaving every folder on the volume.
    clock = WallClock()
    sandbox_backend = make_backend(tmp_path, ListedCluster(), clock)
    odd = {"4" * 32: "²\n", "5" * 32: "9" * 5000 + "\n", "6" * 32: "-1\n", "7" * 32: "nan\n"}
    for job_id, text in odd.items():
        folder = staged(sandbox_backend, tmp_path, job_id)
        (folder / backend.EXPIRES_NAME).write_text(text)
        os.utime(folder, (START, START))

    clock.now = START + backend.UNMARKED_LIFETIME_S - 1
    assert sandbox_backend.remove_leftovers() == []
    clock.now = START + backend.UNMARKED_LIFETIME_S + 1
    assert sorted(sandbox_backend.remove_leftovers()) == [f"sandbox-jobs/{job_id}" for job_id in sorted(odd)]


def test_a_malformed_expiry_annotation_counts_from_the_creation_and_never_stops_the_pass(tmp_path: Path) -> None:
    # As for the folders' file: float("²") raises although "²".isdigit(); one such Job stopped every round.
    created = START - 7200
    stamp = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    odd = listed_job(
        "e" * 32, None, finished=True, creationTimestamp=stamp, annotations={backend.EXPIRES_ANNOTATION: "²"}
    )
    clock = WallClock()
    sandbox_backend = make_backend(tmp_path, ListedCluster([odd]), clock)

    clock.now = created + 70 + backend.TTL_AFTER_FINISHED_S + backend.LEFTOVER_MARGIN_S + 1
    assert sandbox_backend.remove_leftovers() == [backend.job_name("e" * 32)]
