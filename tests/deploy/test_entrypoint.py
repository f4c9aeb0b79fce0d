"""Prove the image's entrypoint reads secrets from files, sizes workers by their devices, and refuses confusion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"


def start(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the entrypoint in dry-run mode, with a clean environment plus `env`; return what it printed."""
    clean = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "ENTRYPOINT_DRY_RUN": "1",
        "APP_DIR": str(ROOT),
        **env,
    }
    return subprocess.run(["bash", str(ENTRYPOINT), *args], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_a_secret_is_read_from_its_file_and_the_file_variable_is_dropped(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("s3cr3t-from-a-file\n")
    probe = "python -c \"import os; print(repr(os.environ.get('SECRET_KEY')), os.environ.get('SECRET_KEY_FILE'))\""
    reply = subprocess.run(
        [
            "bash",
            "-c",
            f"source <(sed -n '/^read_secret_files()/,/^}}/p;/^SECRET_VARIABLES=/p;/^fail()/p' "
            f"{ENTRYPOINT}) && read_secret_files && {probe}",
        ],
        env={"PATH": os.environ["PATH"], "SECRET_KEY_FILE": str(secret)},
        capture_output=True,
        text=True,
    )
    assert reply.returncode == 0, reply.stderr
    assert reply.stdout.strip() == "'s3cr3t-from-a-file' None"


def test_setting_a_secret_both_ways_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "hidden"
    secret.write_text("x")
    reply = start("web", HIDDEN_SET_SECRET="y", HIDDEN_SET_SECRET_FILE=str(secret))
    assert reply.returncode == 64
    assert "both HIDDEN_SET_SECRET and HIDDEN_SET_SECRET_FILE are set" in reply.stderr


def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    reply = start("web", DATABASE_URL_FILE=str(tmp_path / "missing"))
    assert reply.returncode == 64
    assert "DATABASE_URL_FILE" in reply.stderr and "cannot be read" in reply.stderr


def test_the_web_runs_gunicorn_on_the_wsgi_application() -> None:
    reply = start("web", WEB_CONCURRENCY="5")
    assert reply.returncode == 0, reply.stderr
    assert reply.stdout.startswith("gunicorn hackathon.config.wsgi:application --bind 0.0.0.0:8000 --workers 5")


def test_a_gpu_worker_runs_one_process_per_device_of_its_inventory() -> None:
    reply = start("worker", WORKER_QUEUES="gpu", SANDBOX_GPUS="T4:0,T4:1,A100 MIG 1g.10gb:MIG-abc")
    assert reply.returncode == 0, reply.stderr
    assert "--queues gpu --concurrency 3 " in reply.stdout
    assert "--hostname gpu@%h" in reply.stdout


def test_a_gpu_worker_without_an_inventory_refuses_to_start() -> None:
    reply = start("worker", WORKER_QUEUES="gpu")
    assert reply.returncode == 64
    assert "needs SANDBOX_GPUS" in reply.stderr


def test_a_malformed_inventory_is_refused_with_the_format() -> None:
    reply = start("worker", WORKER_QUEUES="gpu", SANDBOX_GPUS="T4")
    assert reply.returncode == 64
    assert "MODEL:ID" in reply.stderr


def test_a_cpu_worker_runs_one_process_per_core_unless_told() -> None:
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    assert f"--concurrency {cores} " in start("worker").stdout
    assert "--queues cpu --concurrency 7 " in start("worker", WORKER_CONCURRENCY="7").stdout


def test_beat_and_flower_and_migrate_have_their_commands() -> None:
    assert start("beat").stdout.startswith("celery -A hackathon.config beat --schedule ")
    assert start("flower").stdout.startswith("celery -A hackathon.config flower --port=5555")
    assert start("migrate").stdout.strip() == "python manage.py migrate --noinput && python manage.py sync_exercises"


def test_an_unknown_role_is_refused_with_the_known_ones() -> None:
    reply = start("webserver")
    assert reply.returncode == 64
    assert "use web, worker, beat, flower, migrate or manage" in reply.stderr
