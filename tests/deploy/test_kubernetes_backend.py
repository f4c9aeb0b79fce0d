"""Prove the kubernetes sandbox backend: its Job manifest against the client's models, its runs against recordings.

There is no cluster here. The conversations in recordings/ follow the Kubernetes API's shapes (a Job's status and
conditions, a pod's container states, the log as text); `RecordedCluster` answers the backend's calls with them
in order, deserialized into the client's own models, and plays the job's part by writing into the output/ that
the Job's manifest mounts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from grading import sandboxing
from sandbox.backends import get_backend
from sandbox.backends import kubernetes as backend
from sandbox.jobs import Job, Limits, Mount, Outcome, SandboxConfig

RECORDINGS = Path(__file__).parent / "recordings"
MiB = 1024 * 1024


class RecordedCluster:
    """Both BatchV1Api and CoreV1Api, answering from one recorded conversation and checking its order."""

    def __init__(self, name: str, shared: Path) -> None:
        self.recording = json.loads((RECORDINGS / f"{name}.json").read_text())
        self.steps = list(self.recording["conversation"])
        self.shared = shared
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.created: dict[str, Any] | None = None

    def answer(self, call: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((call, args, kwargs))
        assert self.steps, f"the backend called {call} after the recorded conversation ended"
        step = self.steps.pop(0)
        assert step["call"] == call, f"the backend called {call} where the recording has {step['call']}"
        if step["model"] == "str":
            return step["response"]
        return ApiClient()._ApiClient__deserialize(step["response"], step["model"])

    def create_namespaced_job(self, namespace: str, body: dict[str, Any]) -> Any:
        self.created = body
        self.play_the_job(body)
        return self.answer("create_namespaced_job", namespace, body)

    def play_the_job(self, body: dict[str, Any]) -> None:
        """Write what the recorded job wrote, into the folder its manifest mounts at /job/output."""
        mounts = body["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        (output,) = [m for m in mounts if m["mountPath"] == "/job/output"]
        folder = self.shared / output["subPath"]
        for name, text in self.recording.get("job_writes", {}).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        for name, target in self.recording.get("job_links", {}).items():
            os.symlink(target, folder / name)

    def read_namespaced_job_status(self, name: str, namespace: str) -> Any:
        return self.answer("read_namespaced_job_status", name, namespace)

    def list_namespaced_pod(self, namespace: str, label_selector: str) -> Any:
        return self.answer("list_namespaced_pod", namespace, label_selector=label_selector)

    def read_namespaced_pod_log(self, name: str, namespace: str, container: str) -> Any:
        return self.answer("read_namespaced_pod_log", name, namespace, container=container)

    def delete_namespaced_job(self, name: str, namespace: str, propagation_policy: str) -> Any:
        return self.answer("delete_namespaced_job", name, namespace, propagation_policy=propagation_policy)

    def called(self) -> list[str]:
        return [call for call, _, _ in self.calls]


class FakeClock:
    """Time that moves only when the backend sleeps between polls."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def options_for(shared: Path, **changes: Any) -> backend.ClusterOptions:
    values: dict[str, Any] = {
        "namespace": "ml-infn",
        "claim": "ml-infn-shared",
        "shared_path": shared,
        "images": {"cpu": "registry.example.org/ml-infn/runtime-cpu:1"},
        "gpu_resource": "nvidia.com/mig-1g.10gb",
        "gpu_node_selector": {"nvidia.com/mig.config": "all-1g.10gb"},
        "poll_seconds": 2.0,
    }
    values.update(changes)
    return backend.ClusterOptions(**values)


def notebook_job(tmp_path: Path, shared: Path, **changes: Any) -> Job:
    """A graded run: the data on the shared volume (as the private data is), the notebook and output/ off it."""
    data = shared / "private" / "datasets" / "breast-cancer" / "tag" / "hidden" / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "x.csv").write_text("1,2\n")
    notebook = tmp_path / "work" / "notebook.ipynb"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    values: dict[str, Any] = {
        "output_dir": tmp_path / "work" / "output",
        "mounts": (Mount(source=data, name="data"),),
        "notebook": notebook,
        "limits": Limits(wall_seconds=60, memory_bytes=512 * MiB, disk_bytes=64 * MiB, cpus=2.0),
    }
    values.update(changes)
    return Job(**values)


def run_recorded(name: str, tmp_path: Path, job: Job | None = None, **changes: Any) -> tuple[Any, RecordedCluster]:
    shared = tmp_path / "shared"
    shared.mkdir(exist_ok=True)
    cluster = RecordedCluster(name, shared)
    clock = FakeClock()
    sandbox_backend = backend.Backend(
        SandboxConfig(state_dir=tmp_path / "state"),
        options=options_for(shared, **changes),
        batch_api=cluster,
        core_api=cluster,
        sleep=clock.sleep,
        clock=clock,
    )
    assert sandbox_backend.unavailable_reason() is None
    result = sandbox_backend.run(job or notebook_job(tmp_path, shared))
    return result, cluster


# --- the manifest --------------------------------------------------------------------------------------------


def manifest_for(tmp_path: Path, job: Job | None = None) -> dict[str, Any]:
    shared = tmp_path / "shared"
    shared.mkdir(exist_ok=True)
    sandbox_backend = backend.Backend(SandboxConfig(state_dir=tmp_path), options=options_for(shared))
    job = job or notebook_job(tmp_path, shared)
    staging = sandbox_backend.stage(job, "f" * 32)
    return backend.job_manifest(job, "f" * 32, options_for(shared), staging)


def test_the_job_manifest_is_a_v1job_that_the_client_round_trips_unchanged(tmp_path: Path) -> None:
    manifest = manifest_for(tmp_path)
    client = ApiClient()
    model = client._ApiClient__deserialize(manifest, "V1Job")
    assert client.sanitize_for_serialization(model) == manifest
    assert model.spec.template.spec.containers[0].security_context.read_only_root_filesystem is True


def test_the_pod_is_non_root_read_only_tokenless_and_without_privileges(tmp_path: Path) -> None:
    pod = manifest_for(tmp_path)["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert "hostNetwork" not in pod and "hostPID" not in pod


def test_the_pod_carries_the_label_the_deny_all_network_policy_selects(tmp_path: Path) -> None:
    manifest = manifest_for(tmp_path)
    assert manifest["spec"]["template"]["metadata"]["labels"][backend.NETWORK_LABEL] == "none"


def test_limits_become_resources_a_deadline_and_a_sized_scratch_folder(tmp_path: Path) -> None:
    manifest = manifest_for(tmp_path)
    pod = manifest["spec"]["template"]["spec"]
    resources = pod["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "2000m", "memory": str(576 * MiB)}  # memory + the in-memory /job
    assert resources["requests"] == resources["limits"]
    assert manifest["spec"]["activeDeadlineSeconds"] == 70
    assert manifest["spec"]["backoffLimit"] == 0
    assert manifest["spec"]["ttlSecondsAfterFinished"] == backend.TTL_AFTER_FINISHED_S
    (scratch,) = [v for v in pod["volumes"] if v["name"] == "scratch"]
    assert scratch["emptyDir"] == {"medium": "Memory", "sizeLimit": str(64 * MiB)}
    assert "nodeSelector" not in pod


def test_only_output_is_writable_and_the_data_is_mounted_where_it_lies(tmp_path: Path) -> None:
    mounts = manifest_for(tmp_path)["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    by_path = {m["mountPath"]: m for m in mounts}
    assert by_path["/job/data"]["subPath"] == "private/datasets/breast-cancer/tag/hidden/data"
    assert by_path["/job/notebook.ipynb"]["readOnly"] is True
    assert by_path["/opt/ml-infn/sandbox"]["readOnly"] is True
    writable = {path for path, m in by_path.items() if not m.get("readOnly") and m["name"] == "shared"}
    assert writable == {"/job/output"}


def test_a_gpu_job_asks_for_one_slice_on_a_gpu_node(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    job = notebook_job(tmp_path, shared, gpu=True, runtime="gpu")
    pod = manifest_for(tmp_path, job)["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/mig-1g.10gb"] == "1"
    assert pod["nodeSelector"] == {"nvidia.com/mig.config": "all-1g.10gb"}
    assert pod["containers"][0]["image"] == "ml-infn/runtime-gpu:latest"


def test_mounts_off_the_shared_volume_are_staged_and_the_runner_is_published_once(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    scripts = tmp_path / "bundle" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "encode.py").write_text("print(1)\n")
    job = Job(output_dir=tmp_path / "out", command=("python", "scripts/encode.py"), mounts=(Mount(scripts, "scripts"),))
    sandbox_backend = backend.Backend(SandboxConfig(state_dir=tmp_path), options=options_for(shared))
    first = sandbox_backend.stage(job, "a" * 32)
    second = sandbox_backend.stage(job, "b" * 32)
    assert (shared / dict(first.mount_subpaths)["scripts"] / "encode.py").read_text() == "print(1)\n"
    assert first.runner_subpath == second.runner_subpath
    assert (shared / first.runner_subpath / "runner.py").is_file()
    assert len(list((shared / backend.RUNNER_FOLDER).iterdir())) == 1


# --- runs against recorded conversations ---------------------------------------------------------------------


def test_a_notebook_that_succeeds_is_ok_and_its_files_come_back_without_links(tmp_path: Path) -> None:
    result, cluster = run_recorded("notebook_ok", tmp_path)
    assert result.outcome is Outcome.OK, result.message
    assert result.backend == "kubernetes"
    assert result.log == "epoch 1\n"
    output = tmp_path / "work" / "output"
    assert (output / "predictions.csv").read_text().startswith("id,score")
    assert (output / "figures" / "roc.txt").read_text() == "auc 0.93\n"
    assert not (output / "leak").exists() and not (output / "leak").is_symlink()
    assert cluster.called()[-1] == "delete_namespaced_job"
    assert cluster.calls[-1][2] == {"propagation_policy": "Background"}
    assert not cluster.steps  # the whole conversation was held
    assert list((tmp_path / "shared" / backend.JOBS_FOLDER).iterdir()) == []  # staging removed


def test_the_backend_asks_for_its_own_pod_by_the_jobs_label(tmp_path: Path) -> None:
    _, cluster = run_recorded("notebook_ok", tmp_path)
    assert cluster.created is not None
    job_id = cluster.created["metadata"]["labels"][backend.JOB_LABEL]
    selectors = {kwargs["label_selector"] for call, _, kwargs in cluster.calls if call == "list_namespaced_pod"}
    assert selectors == {f"{backend.JOB_LABEL}={job_id}"}
    (log_call,) = [c for c in cluster.calls if c[0] == "read_namespaced_pod_log"]
    assert log_call[1][0] == "ml-infn-sandbox-recorded-x7k2p" and log_call[2] == {"container": "job"}


def test_a_container_killed_for_memory_ends_as_memory(tmp_path: Path) -> None:
    result, cluster = run_recorded("oom_killed", tmp_path)
    assert result.outcome is Outcome.MEMORY
    assert "memory" in result.message
    assert not cluster.steps


def test_a_job_past_its_deadline_ends_as_timeout(tmp_path: Path) -> None:
    result, cluster = run_recorded("deadline_exceeded", tmp_path)
    assert result.outcome is Outcome.TIMEOUT
    assert not cluster.steps


def test_an_image_that_cannot_be_pulled_is_infrastructure_and_the_job_is_deleted(tmp_path: Path) -> None:
    result, cluster = run_recorded("image_pull_backoff", tmp_path)
    assert result.outcome is Outcome.INFRASTRUCTURE
    assert "ImagePullBackOff" in result.message
    assert "read_namespaced_pod_log" not in cluster.called()
    assert cluster.called()[-1] == "delete_namespaced_job"


def test_a_job_no_node_takes_is_given_up_after_the_schedule_wait(tmp_path: Path) -> None:
    result, cluster = run_recorded("unschedulable", tmp_path, schedule_seconds=1.0)
    assert result.outcome is Outcome.INFRASTRUCTURE
    assert "no node took the job within 1 s" in result.message
    assert not cluster.steps


def test_an_api_that_refuses_is_infrastructure(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()

    class Forbidden(RecordedCluster):
        def create_namespaced_job(self, namespace: str, body: dict[str, Any]) -> Any:
            self.calls.append(("create_namespaced_job", (namespace,), {}))
            raise ApiException(status=403, reason="Forbidden")

    cluster = Forbidden("image_pull_backoff", shared)
    cluster.steps = [s for s in cluster.steps if s["call"] == "delete_namespaced_job"]
    sandbox_backend = backend.Backend(
        SandboxConfig(state_dir=tmp_path), options=options_for(shared), batch_api=cluster, core_api=cluster
    )
    result = sandbox_backend.run(notebook_job(tmp_path, shared))
    assert result.outcome is Outcome.INFRASTRUCTURE
    assert "Forbidden" in result.message
    assert cluster.called() == ["create_namespaced_job", "delete_namespaced_job"]


# --- opt-in ------------------------------------------------------------------------------------------------


def named(settings: Any, tmp_path: Path, backend_name: str = "kubernetes", **kubernetes: str) -> None:
    """Set the sandbox settings as the environment would (SANDBOX_BACKEND, SANDBOX_KUBERNETES_*)."""
    settings.SANDBOX_STATE_DIR = tmp_path / "state"
    settings.SANDBOX_BACKEND = backend_name
    settings.SANDBOX_KUBERNETES_CLAIM = kubernetes.get("claim", "")
    settings.SANDBOX_KUBERNETES_SHARED_PATH = kubernetes.get("shared_path", "")
    # The test user's own group: the one group a worker is surely in without a cluster's supplementalGroups.
    settings.SANDBOX_KUBERNETES_FILES_GROUP = int(kubernetes.get("files_group", str(os.getegid())))


def test_it_refuses_to_run_unless_named(tmp_path: Path, settings: Any) -> None:
    named(settings, tmp_path, backend_name="", claim="ml-infn-shared", shared_path=str(tmp_path))
    reason = backend.Backend(sandboxing.sandbox_config()).unavailable_reason()
    assert reason is not None and "SANDBOX_BACKEND=kubernetes" in reason


def test_it_is_never_the_default_when_no_host_backend_can_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_BACKEND", raising=False)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap, no prlimit
    config = SandboxConfig(state_dir=tmp_path, runtime_python={"cpu": tmp_path / "no-python"})
    with pytest.raises(RuntimeError) as error:
        get_backend(None, config)
    assert "kubernetes: it runs only when named" in str(error.value)


def test_named_but_without_the_shared_volume_it_says_which_variables_to_set(tmp_path: Path, settings: Any) -> None:
    named(settings, tmp_path)
    reason = sandboxing.sandbox_backend().unavailable_reason()
    assert reason is not None and "SANDBOX_KUBERNETES_CLAIM" in reason


def test_named_and_configured_it_runs_once_a_kube_config_loads(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    named(settings, tmp_path, claim="ml-infn-shared", shared_path=str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    reason = sandboxing.sandbox_backend().unavailable_reason()
    assert reason is not None and "no kube config" in reason
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        "clusters: [{name: lab, cluster: {server: 'https://10.0.0.1:6443'}}]\n"
        "users: [{name: worker, user: {token: not-a-real-token}}]\n"
        "contexts: [{name: lab, context: {cluster: lab, user: worker, namespace: ml-infn}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert sandboxing.sandbox_backend().unavailable_reason() is None


def test_a_notebook_with_a_hidden_name_is_mounted_as_submission_ipynb(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    notebook = tmp_path / "work" / ".home"
    notebook.parent.mkdir(parents=True)
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    job = notebook_job(tmp_path, shared, notebook=notebook)
    container = manifest_for(tmp_path, job)["spec"]["template"]["spec"]["containers"][0]
    paths = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/job/submission.ipynb" in paths and "/job/.home" not in paths
    assert container["command"][-2] == "submission.ipynb"
