"""Prove the kubernetes backend's warm pool of pods against recorded API conversations: no cluster here.

Each Job the backend creates answers from its own recorded conversation (recordings/pool_*.json: `pods` for the
pool's Jobs in the order they are created, `cold` for the others), so the pool's spawning thread and the job's
thread may talk to the cluster in any interleaving; deletions are answered as the API does and noted. The fake
names each pod after its Job, and plays each pod's part on the shared volume: a pod
that warms creates its ready file in output/ when it is created, and once the request appears in its stage it
writes what the recorded job wrote. Jobs beyond the recording (the replacements) may only be created and deleted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient

from sandbox import warm
from sandbox.backends import kubernetes as backend
from sandbox.jobs import Job, Limits, Outcome, SandboxConfig
from sandbox.runner import read_report
from tests.builders.notebooks import write_notebook
from tests.deploy.test_kubernetes_backend import FakeClock, notebook_job, options_for

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = Path(__file__).parent / "recordings"
LIMITS = Limits(wall_seconds=60, memory_bytes=512 * 1024 * 1024, disk_bytes=64 * 1024 * 1024, cpus=2.0)
DELETED = {"apiVersion": "v1", "kind": "Status", "status": "Success"}


class PoolCluster:
    """Both BatchV1Api and CoreV1Api, answering each Job from its own recorded conversation, in order."""

    def __init__(self, name: str, shared: Path) -> None:
        recording = json.loads((RECORDINGS / f"{name}.json").read_text())
        self.pod_scripts = list(recording["pods"])
        self.cold_scripts = list(recording["cold"])
        self.shared = shared
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}  # Job name -> its body, script, remaining steps
        self.created: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.requests: dict[str, dict[str, Any]] = {}  # Job name -> the request it was handed
        self.staged_inodes: dict[str, int] = {}  # Job name -> the inode of the staged data file

    # --- the pods' part on the shared volume ---

    def folder_of(self, body: dict[str, Any], mount_path: str) -> Path | None:
        mounts = body["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        paths = [m["subPath"] for m in mounts if m["mountPath"] == mount_path]
        return self.shared / paths[0] if paths else None

    def play(self, name: str) -> None:
        """At the first look after the hand-over (or a cold job's creation), write what the recorded job wrote."""
        job = self.jobs[name]
        if job["played"]:
            return
        stage = self.folder_of(job["body"], backend.POOL_STAGE)
        if stage is not None:
            request = stage / warm.REQUEST_NAME
            if not request.exists():
                return
            self.requests[name] = json.loads(request.read_text())
            if (stage / "data" / "x.csv").exists():
                self.staged_inodes[name] = os.stat(stage / "data" / "x.csv").st_ino
        job["played"] = True
        output = self.folder_of(job["body"], "/job/output")
        assert output is not None
        for file_name, text in job["script"].get("job_writes", {}).items():
            (output / file_name).parent.mkdir(parents=True, exist_ok=True)
            (output / file_name).write_text(text)
        for file_name, target in job["script"].get("job_links", {}).items():
            os.symlink(target, output / file_name)

    # --- the API ---

    def answer(self, name: str, call: str) -> Any:
        with self.lock:
            steps = self.jobs[name]["steps"]
            assert steps, f"the backend called {call} on {name} after its recorded conversation ended"
            step = steps.pop(0)
        assert step["call"] == call, f"the backend called {call} on {name} where the recording has {step['call']}"
        if step["model"] == "str":
            return step["response"]
        return ApiClient()._ApiClient__deserialize(step["response"], step["model"])

    def create_namespaced_job(self, namespace: str, body: dict[str, Any]) -> Any:
        name = body["metadata"]["name"]
        pooled = backend.POOL_LABEL in body["metadata"]["labels"]
        with self.lock:
            scripts = self.pod_scripts if pooled else self.cold_scripts
            script = scripts.pop(0) if scripts else {"conversation": []}
            # Deletions are answered whenever they come (a pod is deleted when it is done, expired or closed).
            steps = [step for step in script["conversation"] if step["call"] != "delete_namespaced_job"]
            self.jobs[name] = {"body": body, "script": script, "steps": steps, "played": False}
            self.created.append(body)
        if script.get("warms"):
            output = self.folder_of(body, "/job/output")
            assert output is not None
            (output / backend.READY_NAME).touch()
        if not pooled:
            self.play(name)
        if not steps:
            return ApiClient()._ApiClient__deserialize({"metadata": {"name": name}}, "V1Job")
        return self.answer(name, "create_namespaced_job")

    def read_namespaced_job_status(self, name: str, namespace: str) -> Any:
        self.play(name)
        return self.answer(name, "read_namespaced_job_status")

    def list_namespaced_pod(self, namespace: str, label_selector: str) -> Any:
        label, _, job_id = label_selector.partition("=")
        assert label == backend.JOB_LABEL
        name = backend.job_name(job_id)
        pods = self.answer(name, "list_namespaced_pod")
        for pod in pods.items:
            pod.metadata.name = f"{name}-w4rm1"
        return pods

    def read_namespaced_pod_log(self, name: str, namespace: str, container: str) -> Any:
        assert container == backend.CONTAINER
        return self.answer(name.rsplit("-", 1)[0], "read_namespaced_pod_log")

    def delete_namespaced_job(self, name: str, namespace: str, propagation_policy: str) -> Any:
        with self.lock:
            assert name in self.jobs, f"the backend deleted {name}, which it never created"
            self.deleted.append(name)
        return ApiClient()._ApiClient__deserialize(DELETED, "V1Status")

    # --- what the tests look at ---

    def pool_jobs(self) -> list[dict[str, Any]]:
        with self.lock:
            return [body for body in self.created if backend.POOL_LABEL in body["metadata"]["labels"]]

    def wait_for_pool_jobs(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 10
        while len(self.pool_jobs()) < count:
            assert time.monotonic() < deadline, f"the pool created {len(self.pool_jobs())} Jobs, not {count}"
            time.sleep(0.01)
        return self.pool_jobs()

    def finished(self) -> bool:
        """Tell whether every recorded conversation was held to its end."""
        with self.lock:
            return all(not job["steps"] for job in self.jobs.values()) and not self.pod_scripts


class Pooled:
    """A kubernetes backend with a warm pool of one pod per runtime, its fake cluster and its clock."""

    def __init__(self, tmp_path: Path, recording: str, **changes: Any) -> None:
        self.shared = tmp_path / "shared"
        self.shared.mkdir(exist_ok=True)
        self.cluster = PoolCluster(recording, self.shared)
        self.clock = FakeClock()
        options = options_for(self.shared, **changes)
        config = SandboxConfig(
            state_dir=tmp_path / "state", warm_pool_size=1, warm_imports={"cpu": ("numpy",)}, cluster=options
        )
        self.backend = backend.Backend(
            config, batch_api=self.cluster, core_api=self.cluster, sleep=self.clock.sleep, clock=self.clock
        )
        pool = self.backend.warm_pool
        assert pool is not None
        self.pool = pool

    def warm(self) -> dict[str, Any]:
        """Start warming for the notebook jobs' limits; return the first pool Job's body once the pool holds it."""
        self.pool.prepare("cpu", LIMITS)
        self.wait_idle()
        return self.cluster.wait_for_pool_jobs(1)[0]

    def wait_idle(self) -> None:
        """Wait until the pool holds its pod: the spawning thread keeps it only once its Job is created."""
        deadline = time.monotonic() + 10
        while True:
            with self.pool.lock:
                if len(self.pool.idle) == self.pool.size:
                    return
            assert time.monotonic() < deadline, "the pool never held its pod"
            time.sleep(0.01)


@pytest.fixture
def pooled(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Pooled]:
    recording, changes = request.param if isinstance(request.param, tuple) else (request.param, {})
    made = Pooled(tmp_path, recording, **changes)
    try:
        yield made
    finally:
        made.backend.close()


def a_notebook_job(tmp_path: Path, **changes: Any) -> Job:
    return notebook_job(tmp_path, tmp_path / "shared", limits=LIMITS, **changes)


# --- the manifest --------------------------------------------------------------------------------------------


def test_a_pool_job_is_a_cold_jobs_job_plus_a_read_only_stage_and_a_deadline_for_its_wait(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    options = options_for(shared)
    sandbox_backend = backend.Backend(SandboxConfig(state_dir=tmp_path), options=options)
    job = notebook_job(tmp_path, shared, limits=LIMITS)
    cold = backend.job_manifest(job, "c" * 32, options, sandbox_backend.stage(job, "c" * 32))
    staging = sandbox_backend.stage_pool_pod("p" * 32, LIMITS)
    pooled = backend.pool_manifest("cpu", LIMITS, "p" * 32, options, staging, ("numpy", "pandas"))

    client = ApiClient()
    assert client.sanitize_for_serialization(client._ApiClient__deserialize(pooled, "V1Job")) == pooled
    # Everything but the command, the mounts, the deadline and the names is the cold job's, for the same limits.
    cold_pod, pool_pod = cold["spec"]["template"]["spec"], pooled["spec"]["template"]["spec"]
    assert {k: v for k, v in pool_pod.items() if k != "containers"} == {
        k: v for k, v in cold_pod.items() if k != "containers"
    }
    (cold_container,), (pool_container,) = cold_pod["containers"], pool_pod["containers"]
    differing = {"command", "volumeMounts"}
    assert {k: v for k, v in pool_container.items() if k not in differing} == {
        k: v for k, v in cold_container.items() if k not in differing
    }
    assert pool_container["resources"]["limits"] == {"cpu": "2000m", "memory": str((512 + 64) * 1024 * 1024)}
    assert {k: v for k, v in pooled["spec"].items() if k not in ("activeDeadlineSeconds", "template")} == {
        k: v for k, v in cold["spec"].items() if k not in ("activeDeadlineSeconds", "template")
    }
    assert cold["spec"]["activeDeadlineSeconds"] == 60 + backend.WALL_GRACE_S
    assert pooled["spec"]["activeDeadlineSeconds"] == warm.POOL_IDLE_S + 60 + backend.POOL_MARGIN_S
    labels = pooled["spec"]["template"]["metadata"]["labels"]
    assert labels[backend.NETWORK_LABEL] == "none" and labels[backend.POOL_LABEL] == "cpu"
    assert pooled["metadata"]["labels"] == labels

    mounts = {m["mountPath"]: m for m in pool_container["volumeMounts"]}
    assert mounts[backend.POOL_STAGE] == {
        "name": "shared",
        "mountPath": "/job/.stage",
        "subPath": f"{backend.JOBS_FOLDER}/{'p' * 32}/stage",
        "readOnly": True,
    }
    assert mounts["/job/output"]["subPath"] == f"{backend.JOBS_FOLDER}/{'p' * 32}/output"
    writable = {path for path, m in mounts.items() if not m.get("readOnly") and m["name"] == "shared"}
    assert writable == {"/job/output"}
    command = pool_container["command"]
    assert command[-8:] == [
        "--preload",
        "numpy,pandas",
        "--warm-request",
        "/job/.stage/.request.json",
        "--ready-file",
        f"/job/output/{backend.READY_NAME}",
        "--warm",
        "-",
    ]


# --- runs against recorded conversations ---------------------------------------------------------------------


@pytest.mark.parametrize("pooled", ["pool_notebook_ok"], indirect=True)
def test_the_hand_over_stages_the_inputs_and_the_request_and_the_result_is_judged_like_a_cold_run(
    pooled: Pooled, tmp_path: Path
) -> None:
    body = pooled.warm()
    name = body["metadata"]["name"]
    job = a_notebook_job(tmp_path)
    result = pooled.backend.run(job)

    assert result.outcome is Outcome.OK, result.message
    assert result.warm is True and result.backend == "kubernetes"
    assert result.log == "epoch 1\n"
    request = pooled.cluster.requests[name]
    assert request["notebook"] == "notebook.ipynb"
    assert request["links"] == {"data": "/job/.stage/data", "notebook.ipynb": "/job/.stage/notebook.ipynb"}
    assert request["limits"]["wall_seconds"] == 60
    # The data lies on the shared volume, as the stage does: hard-linked, not copied.
    assert pooled.cluster.staged_inodes[name] == os.stat(job.mounts[0].source / "x.csv").st_ino
    output = job.output_dir
    assert (output / "predictions.csv").read_text().startswith("id,score")
    assert (output / "figures" / "roc.txt").read_text() == "auc 0.93\n"
    assert not (output / "leak").exists() and not (output / "leak").is_symlink()
    assert not (output / backend.READY_NAME).exists()  # the runner's readiness is not the job's output
    assert name in pooled.cluster.deleted
    assert not (pooled.shared / backend.JOBS_FOLDER / body["metadata"]["labels"][backend.JOB_LABEL]).exists()


@pytest.mark.parametrize("pooled", ["pool_notebook_ok"], indirect=True)
def test_each_pod_serves_one_job_and_is_replaced_after_it(pooled: Pooled, tmp_path: Path) -> None:
    pooled.warm()
    first = pooled.backend.run(a_notebook_job(tmp_path, output_dir=tmp_path / "first"))
    pooled.wait_idle()  # the replacement, created as the first job took its pod
    second = pooled.backend.run(a_notebook_job(tmp_path, output_dir=tmp_path / "second"))

    assert first.outcome is second.outcome is Outcome.OK
    assert first.warm and second.warm
    jobs = pooled.cluster.wait_for_pool_jobs(3)  # two served, and the replacement of the second
    names = [body["metadata"]["name"] for body in jobs]
    assert len(set(names)) == 3
    assert names[0] in pooled.cluster.deleted and names[1] in pooled.cluster.deleted
    assert set(pooled.cluster.requests) == {names[0], names[1]}  # one request each
    assert pooled.cluster.finished()


@pytest.mark.parametrize("pooled", [("pool_wall_clock", {"poll_seconds": 50.0})], indirect=True)
def test_the_wall_clock_counts_from_the_hand_over_and_the_watch_ends_the_job_as_timeout(
    pooled: Pooled, tmp_path: Path
) -> None:
    """The pod waited 10 minutes for its job; the job still gets its whole wall clock, and not much more."""
    body = pooled.warm()
    pooled.clock.now += 600  # idle, within POOL_IDLE_S
    handed_over = pooled.clock.now
    result = pooled.backend.run(a_notebook_job(tmp_path))

    assert result.outcome is Outcome.TIMEOUT
    assert result.warm is True
    assert 60 + backend.WALL_GRACE_S < pooled.clock.now - handed_over <= 60 + backend.WALL_GRACE_S + 50
    assert body["spec"]["activeDeadlineSeconds"] > 600 + 60  # the cluster would not have ended it yet
    assert body["metadata"]["name"] in pooled.cluster.deleted
    assert pooled.cluster.finished()


@pytest.mark.parametrize("pooled", ["pool_died_warming"], indirect=True)
def test_a_pod_that_dies_warming_is_counted_and_the_job_runs_cold(pooled: Pooled, tmp_path: Path) -> None:
    body = pooled.warm()
    result = pooled.backend.run(a_notebook_job(tmp_path))

    assert result.outcome is Outcome.OK, result.message
    assert result.warm is False
    assert pooled.pool.failures["cpu"] == 1
    assert body["metadata"]["name"] in pooled.cluster.deleted
    cold = [b for b in pooled.cluster.created if backend.POOL_LABEL not in b["metadata"]["labels"]]
    assert len(cold) == 1 and cold[0]["spec"]["activeDeadlineSeconds"] == 60 + backend.WALL_GRACE_S
    assert pooled.cluster.finished()


@pytest.mark.parametrize("pooled", ["pool_notebook_ok"], indirect=True)
def test_an_idle_pod_past_its_idle_time_is_replaced(pooled: Pooled, tmp_path: Path) -> None:
    body = pooled.warm()
    (pod,) = pooled.pool.idle
    assert pooled.pool.usable_for(pod, a_notebook_job(tmp_path)) and not pooled.pool.expired(pod)
    pooled.clock.now += warm.POOL_IDLE_S - 1
    pooled.pool.replace_expired()
    assert pooled.pool.idle == [pod]
    pooled.clock.now += 2
    pooled.pool.replace_expired()

    jobs = pooled.cluster.wait_for_pool_jobs(2)
    assert body["metadata"]["name"] in pooled.cluster.deleted
    assert jobs[1]["metadata"]["name"] != body["metadata"]["name"]
    assert not pod.folder.exists()


@pytest.mark.parametrize("pooled", ["pool_notebook_ok"], indirect=True)
def test_a_gpu_job_never_takes_a_pool_pod(pooled: Pooled, tmp_path: Path) -> None:
    body = pooled.warm()
    pooled.cluster.cold_scripts.append(
        {"conversation": json.loads((RECORDINGS / "notebook_ok.json").read_text())["conversation"]}
    )
    result = pooled.backend.run(a_notebook_job(tmp_path, gpu=True, runtime="gpu"))

    assert result.outcome is Outcome.OK and result.warm is False
    assert result.gpu_device == "nvidia.com/mig-1g.10gb"
    assert [pod.name for pod in pooled.pool.idle] == [body["metadata"]["name"]]  # untouched, still waiting
    assert body["metadata"]["name"] not in pooled.cluster.deleted
    assert len(pooled.cluster.pool_jobs()) == 1


def test_without_a_pool_size_it_has_no_pool_and_runs_each_job_cold(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    options = options_for(shared)
    config = SandboxConfig(state_dir=tmp_path, warm_pool_size=0, cluster=options)
    assert backend.Backend(config).warm_pool is None
    assert backend.Backend(SandboxConfig(state_dir=tmp_path, warm_pool_size=1)).warm_pool is None  # no cluster


@pytest.mark.parametrize("pooled", ["pool_image_pull_backoff"], indirect=True)
def test_a_pod_that_cannot_start_is_a_failed_start_and_the_job_runs_cold(pooled: Pooled, tmp_path: Path) -> None:
    body = pooled.warm()
    before = pooled.clock.now
    result = pooled.backend.run(a_notebook_job(tmp_path))

    assert pooled.pool.failures["cpu"] == 1
    assert body["metadata"]["name"] in pooled.cluster.deleted
    assert pooled.clock.now - before == 2.0  # one poll while it was creating, then the pull's back-off is final
    assert result.outcome is Outcome.INFRASTRUCTURE and result.warm is False
    assert "ImagePullBackOff" in result.message  # the cold Job's own, with the same image
    assert pooled.cluster.finished()


# --- the runner's side of the hand-over ------------------------------------------------------------------------


def test_a_warm_runner_says_ready_in_a_file_and_runs_the_request_renamed_into_its_stage(tmp_path: Path) -> None:
    """What a pool pod runs, outside any sandbox: the ready file appears, then the request is taken whole."""
    stage, workdir = tmp_path / "stage", tmp_path / "job"  # /job/.stage and /job in a pod
    output = workdir / "output"
    stage.mkdir()
    output.mkdir(parents=True)
    ready = output / backend.READY_NAME
    runner = subprocess.Popen(
        [
            *[sys.executable, "-m", "sandbox.runner", "--limits", '{"wall_seconds": 60}', "--preload", "json"],
            *["--warm-request", str(stage / warm.REQUEST_NAME), "--ready-file", str(ready), "--warm", "-"],
        ],
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert runner.poll() is None, "the runner ended before it was warm"
            assert time.monotonic() < deadline, "no ready file within a minute"
            time.sleep(0.05)
        job = Job(output_dir=output, notebook=write_notebook(tmp_path / "n.ipynb", "open('output/x', 'w').write('1')"))
        ready.unlink()
        warm.hand_over(job, warm.stage_inputs(job, stage), stage, str(stage), tmp_path)
        stdout, _ = runner.communicate(timeout=60)
    finally:
        runner.kill()
    report = read_report(stdout)
    assert report is not None and report.outcome is Outcome.OK, stdout
    assert stdout.startswith('{"event": "ready"}')
    assert (output / "x").read_text() == "1"
