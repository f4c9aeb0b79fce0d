"""Prove the Kubernetes manifests fence the sandboxes, keep secrets out, and route GPU jobs to GPU nodes."""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

import hackathon.config.settings
from grading import sandboxing
from sandbox.backends import kubernetes as backend
from sandbox.gpus import parse_inventory
from sandbox.jobs import Job
from tests.deploy.platform_queues import queues_sent_to, starts_beat

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SECRET_NAMES = ("SECRET_KEY", "HIDDEN_SET_SECRET", "DATABASE_URL", "CELERY_BROKER_URL", "FLOWER_BASIC_AUTH")
MODEL_OF_KIND = {
    "Namespace": "V1Namespace",
    "ConfigMap": "V1ConfigMap",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "ServiceAccount": "V1ServiceAccount",
    "Role": "V1Role",
    "RoleBinding": "V1RoleBinding",
    "Deployment": "V1Deployment",
    "Service": "V1Service",
    "Job": "V1Job",
    "Ingress": "V1Ingress",
    "PodDisruptionBudget": "V1PodDisruptionBudget",
    "NetworkPolicy": "V1NetworkPolicy",
}


def base_documents() -> list[dict[str, Any]]:
    """Load every manifest the base's kustomization lists, the way kustomize would find them."""
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    documents = []
    for name in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((K8S / "base" / name).read_text()) if d]
    return documents


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in base_documents() if d["kind"] == kind}


def pod_specs() -> dict[str, dict[str, Any]]:
    specs = {name: d["spec"]["template"]["spec"] for name, d in of_kind("Deployment").items()}
    specs.update({f"job/{name}": d["spec"]["template"]["spec"] for name, d in of_kind("Job").items()})
    return specs


def env_of(deployment: str) -> dict[str, str]:
    container = of_kind("Deployment")[deployment]["spec"]["template"]["spec"]["containers"][0]
    env = dict(of_kind("ConfigMap")["ml-infn-settings"]["data"])
    env.update({item["name"]: item["value"] for item in container.get("env", [])})
    return env


SETTINGS_FILE = Path(hackathon.config.settings.__file__)


def cluster_of(env: dict[str, str], settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Read the settings module with the manifest's SANDBOX_* variables, as a worker started from it does."""
    for name in [name for name in os.environ if name.startswith("SANDBOX_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("SANDBOX_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    for name, value in runpy.run_path(str(SETTINGS_FILE)).items():
        if name.startswith("SANDBOX_"):
            setattr(settings, name, value)
    return sandboxing.sandbox_config().cluster


def test_every_manifest_is_a_valid_object_of_the_kubernetes_client() -> None:
    client = ApiClient()
    for document in base_documents():
        model = client._ApiClient__deserialize(document, MODEL_OF_KIND[document["kind"]])
        # Deserializing drops fields the API does not know: a typo would make the round trip differ.
        assert client.sanitize_for_serialization(model) == document, document["metadata"]["name"]


def test_there_are_a_web_and_a_worker_per_queue_and_one_beat() -> None:
    deployments = of_kind("Deployment")
    assert {"web", "worker-cpu", "worker-gpu", "beat", "flower"} <= set(deployments)
    assert env_of("worker-cpu")["WORKER_QUEUES"] == "cpu"
    assert env_of("worker-gpu")["WORKER_QUEUES"] == "gpu"
    assert deployments["beat"]["spec"]["replicas"] == 1
    assert deployments["beat"]["spec"]["strategy"]["type"] == "Recreate"


def args_of(deployment: dict[str, Any]) -> list[str]:
    return [str(a) for a in deployment["spec"]["template"]["spec"]["containers"][0].get("args", [])]


def test_every_queue_the_platform_sends_to_has_a_worker_and_upkeep_its_own() -> None:
    deployments = of_kind("Deployment")
    consumers: dict[str, set[str]] = {}
    for name, deployment in deployments.items():
        if args_of(deployment)[:1] == ["worker"]:
            for queue in env_of(name)["WORKER_QUEUES"].split(","):
                consumers.setdefault(queue, set()).add(name)
    assert queues_sent_to() <= set(consumers)
    assert consumers["upkeep"] == {"upkeep"}
    assert args_of(deployments["upkeep"]) == ["worker", "--pool", "threads"]
    assert deployments["upkeep"]["spec"]["replicas"] >= 1


def test_beat_runs_exactly_once_per_site() -> None:
    deployments = of_kind("Deployment")
    assert [name for name, d in deployments.items() if starts_beat(args_of(d))] == ["beat"]
    assert deployments["beat"]["spec"]["replicas"] == 1


def test_cpu_workers_keep_a_warm_pod_per_process_and_gpu_workers_none() -> None:
    """The pool's size is counted per worker process: the CPU workers' concurrency sizes it, as in compose."""
    cpu, gpu = env_of("worker-cpu"), env_of("worker-gpu")
    assert cpu["SANDBOX_WARM_POOL"] == "1" and int(cpu["WORKER_CONCURRENCY"]) >= 1
    assert gpu["SANDBOX_WARM_POOL"] == "0"  # GPU jobs always start cold


def test_every_platform_pod_is_non_root_with_a_read_only_root_and_no_privileges() -> None:
    for name, spec in pod_specs().items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["capabilities"]["drop"] == ["ALL"], name


def test_only_workers_mount_the_private_data_or_hold_an_api_token() -> None:
    for name, spec in pod_specs().items():
        claims = {v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"] if "persistentVolumeClaim" in v}
        is_worker = name.startswith("worker-")
        assert ("ml-infn-private" in claims) is is_worker, name
        assert (spec.get("automountServiceAccountToken", True) is not False) is is_worker, name
        assert (spec["serviceAccountName"] == "ml-infn-worker") is is_worker, name


def test_secrets_come_from_a_secret_volume_never_from_the_manifests() -> None:
    settings = of_kind("ConfigMap")["ml-infn-settings"]["data"]
    assert not set(SECRET_NAMES) & set(settings)
    assert of_kind("Secret") == {}
    for name, spec in pod_specs().items():
        (secret_volume,) = [v for v in spec["volumes"] if "secret" in v]
        assert secret_volume["secret"]["secretName"] == "ml-infn-secrets", name
        for container in spec["containers"]:
            names = {e["name"] for e in container.get("env", [])}
            assert not set(SECRET_NAMES) & names, name
            assert {"SECRET_KEY_FILE", "HIDDEN_SET_SECRET_FILE", "DATABASE_URL_FILE"} <= names, name


def test_the_worker_may_manage_jobs_and_read_pod_logs_and_nothing_more() -> None:
    (role,) = of_kind("Role").values()
    granted = {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}
    assert ("jobs", "create") in granted and ("jobs", "delete") in granted and ("pods/log", "get") in granted
    assert not any(r in ("secrets", "pods/exec", "persistentvolumeclaims") for r, _ in granted)


def test_sandbox_pods_are_fenced_by_a_deny_all_network_policy() -> None:
    policy = of_kind("NetworkPolicy")["sandbox-deny-all"]["spec"]
    assert policy["podSelector"]["matchLabels"] == {backend.NETWORK_LABEL: "none"}
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert policy["ingress"] == [] and policy["egress"] == []


def test_disruption_budgets_keep_the_site_up_and_drain_workers_one_by_one() -> None:
    budgets = of_kind("PodDisruptionBudget")
    assert budgets["web"]["spec"]["minAvailable"] == 1
    assert budgets["worker-cpu"]["spec"]["maxUnavailable"] == 1
    assert budgets["worker-gpu"]["spec"]["maxUnavailable"] == 1
    assert of_kind("Deployment")["web"]["spec"]["replicas"] >= 2  # else minAvailable 1 blocks every drain


def test_the_ingress_sends_the_public_host_to_the_web_service_over_tls() -> None:
    ingress = of_kind("Ingress")["web"]["spec"]
    assert ingress["tls"][0]["hosts"] == [ingress["rules"][0]["host"]]
    assert ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "web"


@pytest.mark.parametrize(
    ("overlay", "resource"),
    [(None, "nvidia.com/gpu"), ("whole-gpus", "nvidia.com/gpu"), ("mig", "nvidia.com/mig-1g.10gb")],
)
def test_gpu_jobs_of_the_gpu_worker_ask_for_one_device_on_a_gpu_node(
    overlay: str | None, resource: str, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_of("worker-gpu")
    if overlay is not None:
        patch = yaml.safe_load((K8S / "overlays" / overlay / "worker-gpu.yaml").read_text())
        container = patch["spec"]["template"]["spec"]["containers"][0]
        env.update({item["name"]: item["value"] for item in container["env"]})
    options = cluster_of(env, settings, monkeypatch, tmp_path)
    assert options is not None
    job = Job(output_dir=tmp_path / "out", command=("true",), gpu=True, runtime="gpu")
    staging = backend.Staging(tmp_path, tmp_path / "out", "r", None, None, (), "o")
    pod = backend.job_manifest(job, "a" * 32, options, staging)["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"][resource] == "1"
    assert pod["nodeSelector"] and all(pod["nodeSelector"].values())
    # One worker process per device of the pool it serves.
    assert len(parse_inventory(env["SANDBOX_GPUS"])) >= 1
    assert "WORKER_CONCURRENCY" not in env


def test_workers_and_their_job_pods_carry_the_sandbox_files_group_and_never_as_fs_group(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every worker that starts sandbox Jobs can remove what they write (sandbox/backends/kubernetes.py's docstring)."""
    workers = [
        name
        for name in of_kind("Deployment")
        if {"cpu", "gpu"} & set(env_of(name).get("WORKER_QUEUES", "").split(","))  # the upkeep worker runs none
        and env_of(name).get("SANDBOX_BACKEND") == "kubernetes"
    ]
    assert {"worker-cpu", "worker-gpu"} <= set(workers)
    for name in workers:
        options = cluster_of(env_of(name), settings, monkeypatch, tmp_path)
        assert options is not None and options.files_group == 10002, name
        context = pod_specs()[name]["securityContext"]
        assert options.files_group in context["supplementalGroups"], name
        assert context.get("fsGroup") != options.files_group, name  # it would re-group the whole claim
        assert options.files_group != context["runAsGroup"], name
        job = Job(output_dir=tmp_path / "out", command=("true",))
        staging = backend.Staging(tmp_path, tmp_path / "out", "r", None, None, (), "o")
        pod = backend.job_manifest(job, "a" * 32, options, staging)["spec"]["template"]["spec"]
        assert pod["securityContext"]["supplementalGroups"] == [options.files_group]
        assert "fsGroup" not in pod["securityContext"]
        assert pod["securityContext"]["runAsUser"] != context["runAsUser"]  # the job is not the worker
        assert "--share-output" in pod["containers"][0]["command"]


def test_kustomize_builds_the_base_and_every_overlay() -> None:
    kubectl = shutil.which("kubectl")
    kustomize = shutil.which("kustomize")
    if not kubectl and not kustomize:
        pytest.skip("neither kubectl nor kustomize is installed here: the manifests were checked by PyYAML only")
    for target in ("base", "overlays/whole-gpus", "overlays/mig"):
        command = [kubectl, "kustomize"] if kubectl else [kustomize, "build"]
        reply = subprocess.run([*command, str(K8S / target)], capture_output=True, text=True, timeout=60)
        assert reply.returncode == 0, reply.stderr
        documents = [d for d in yaml.safe_load_all(reply.stdout) if d]
        assert all(d["metadata"].get("namespace") == "ml-infn" for d in documents if d["kind"] != "Namespace")
        assert {"Deployment", "Ingress", "NetworkPolicy", "PodDisruptionBudget"} <= {d["kind"] for d in documents}
