"""Prove the compose stack keeps the engine and the hidden data to the workers, and starts each role healthily."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.gpus import parse_inventory
from tests.deploy.platform_queues import queues_sent_to, starts_beat

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
APP_IMAGE = "ml-infn/hackathon"
SECRET_NAMES = ("SECRET_KEY", "HIDDEN_SET_SECRET", "DATABASE_URL", "POSTGRES_PASSWORD", "FLOWER_BASIC_AUTH")


def stack() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return stack()["services"]


def volume_sources(service: dict[str, Any]) -> list[str]:
    """Return the source (host path or volume name) of each of the service's volumes, short or long syntax."""
    sources = []
    for volume in service.get("volumes", []):
        sources.append(volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"])
    return sources


def test_the_stack_has_every_role_of_the_issue() -> None:
    roles = {"web", "worker-cpu", "worker-gpu", "worker-upkeep", "beat", "flower", "redis", "postgres", "migrate"}
    assert roles <= set(services())


def test_the_web_mounts_neither_the_engine_socket_nor_the_private_data() -> None:
    for name in ("web", "worker-upkeep", "beat", "flower", "migrate"):
        sources = volume_sources(services()[name])
        assert not any("docker.sock" in s for s in sources), name
        assert "private" not in sources, name
        assert not any(s.startswith("/srv/ml-infn/private") for s in sources), name


def test_only_the_workers_mount_the_engine_socket_and_the_private_data() -> None:
    with_socket = {n for n, s in services().items() if any("docker.sock" in v for v in volume_sources(s))}
    with_private = {n for n, s in services().items() if "private" in volume_sources(s)}
    assert with_socket == {"worker-cpu", "worker-gpu"}
    assert with_private == {"worker-cpu", "worker-gpu"}


def test_workers_see_the_folders_they_bind_into_sandboxes_at_the_hosts_own_paths() -> None:
    for name in ("worker-cpu", "worker-gpu"):
        service = services()[name]
        binds = [v for v in service["volumes"] if v.startswith("/srv/")]
        assert binds, name
        for bind in binds:
            host, container = bind.split(":")[:2]
            assert host == container, bind
        env = service["environment"]
        for key in ("GRADING_WORK_DIR", "SANDBOX_STATE_DIR", "APP_DIR"):
            assert any(env[key] == v.split(":")[1] for v in binds), key
        private = stack()["volumes"]["private"]["driver_opts"]["device"]
        assert f"private:{env['PRIVATE_DATA_ROOT']}" in service["volumes"]
        assert private == env["PRIVATE_DATA_ROOT"]


def test_every_platform_service_runs_as_a_non_root_user_without_privileges() -> None:
    for name, service in services().items():
        user = str(service.get("user", ""))
        assert user and not user.startswith(("0", "root")), name
        assert not service.get("privileged", False), name
    for name, service in services().items():
        if service["image"].startswith("${HACKATHON_IMAGE"):
            assert service["cap_drop"] == ["ALL"], name
            assert "no-new-privileges:true" in service["security_opt"], name


def test_no_secret_value_is_written_in_the_compose_file_or_the_image() -> None:
    for name, service in services().items():
        env = service.get("environment", {})
        for key in SECRET_NAMES:
            assert key not in env, f"{name} sets {key} in plain text; use {key}_FILE"
        for key, value in env.items():
            if key.endswith("_FILE"):
                assert str(value).startswith("/run/secrets/"), key
    for secret in stack()["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    declared = re.findall(r"^(?:ENV|ARG)\b.*$", dockerfile, flags=re.M)
    for line in declared:
        for key in SECRET_NAMES + ("PASSWORD",):
            assert key not in line, line


def test_secret_files_are_ignored_by_git() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/secrets/secret_key"], cwd=ROOT, check=False
    ).returncode
    assert ignored == 0


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        if name == "migrate":
            continue
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD" and len(test) > 1, name


def test_the_app_services_check_their_own_role() -> None:
    for name in ("web", "worker-cpu", "worker-gpu", "worker-upkeep", "beat", "flower"):
        service = services()[name]
        role = service["command"][0]
        assert service["healthcheck"]["test"][-1] == role, name


def test_the_gpu_worker_reserves_exactly_the_devices_of_its_inventory() -> None:
    service = services()["worker-gpu"]
    inventory = parse_inventory(service["environment"]["SANDBOX_GPUS"])
    (reservation,) = service["deploy"]["resources"]["reservations"]["devices"]
    assert reservation["driver"] == "nvidia"
    assert reservation["capabilities"] == ["gpu"]
    assert reservation["device_ids"] == [device.id for device in inventory]
    assert service["environment"]["WORKER_QUEUES"] == "gpu"
    assert "WORKER_CONCURRENCY" not in service["environment"]  # it follows the inventory's count


def test_queues_route_cpu_and_gpu_work_to_their_own_workers() -> None:
    assert services()["worker-cpu"]["environment"]["WORKER_QUEUES"] == "cpu"
    assert services()["worker-gpu"]["environment"]["WORKER_QUEUES"] == "gpu"
    assert services()["worker-gpu"]["profiles"] == ["gpu"]  # a host without GPUs starts without it


def test_every_queue_the_platform_sends_to_has_a_worker_and_upkeep_its_own() -> None:
    """Without the gpu profile too; the upkeep queue by a worker of its own, which never waits behind grading."""
    consumers: dict[str, set[str]] = {}
    for name, service in services().items():
        if service.get("command", [None])[0] == "worker" and "gpu" not in service.get("profiles", []):
            for queue in service["environment"]["WORKER_QUEUES"].split(","):
                consumers.setdefault(queue, set()).add(name)
    consumers.setdefault("gpu", set()).add("worker-gpu")  # started with --profile gpu, on GPU hosts
    assert queues_sent_to() <= set(consumers)
    assert consumers["upkeep"] == {"worker-upkeep"}
    upkeep = services()["worker-upkeep"]
    assert upkeep["environment"]["WORKER_QUEUES"] == "upkeep"
    assert upkeep["command"] == ["worker", "--pool", "threads"]
    assert "profiles" not in upkeep


def test_beat_runs_exactly_once() -> None:
    assert [name for name, s in services().items() if starts_beat(s.get("command", []))] == ["beat"]


def test_the_cpu_worker_keeps_warm_containers_by_default() -> None:
    """One per worker process and runtime: the pool follows the worker's concurrency (deploy/entrypoint.sh)."""
    assert services()["worker-cpu"]["environment"]["SANDBOX_WARM_POOL"] == "${SANDBOX_WARM_POOL:-1}"


def test_the_database_and_broker_are_on_an_internal_network_only() -> None:
    assert stack()["networks"]["backend"]["internal"] is True
    for name in ("postgres", "redis"):
        assert services()[name]["networks"] == ["backend"]
        assert "ports" not in services()[name]


def test_docker_compose_accepts_the_file() -> None:
    compose = shutil.which("docker-compose")
    command = [compose] if compose else None
    if command is None and shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        command = ["docker", "compose"] if probe.returncode == 0 else None
    if command is None:
        pytest.skip("no docker compose CLI here (Debian's docker.io has no compose plugin): checked by PyYAML only")
    secrets = ROOT / "deploy" / "secrets"
    made = not secrets.exists()
    if made:  # `config` checks that secret files exist; empty stand-ins are enough and are removed after
        secrets.mkdir()
        for name in stack()["secrets"]:
            (secrets / name).write_text("")
    try:
        reply = subprocess.run(
            [*command, "-f", str(COMPOSE), "--profile", "gpu", "config", "-q"], capture_output=True, text=True
        )
    finally:
        if made:
            shutil.rmtree(secrets)
    assert reply.returncode == 0, reply.stderr


def test_x_forwarded_for_is_believed_from_the_host_proxy_s_gateway_only_not_from_private_ranges() -> None:
    # Trusting 192.168.0.0/16 let any client on a venue's LAN forge its address and dodge the sign-in limits.
    default = re.search(r"\$\{TRUSTED_PROXIES:-([^}]*)\}", services()["web"]["environment"]["TRUSTED_PROXIES"]).group(1)
    gateway = stack()["networks"]["frontend"]["ipam"]["config"][0]["gateway"]
    assert default.split(",") == ["127.0.0.1", "::1", gateway]
    assert "frontend" in services()["web"]["networks"]
