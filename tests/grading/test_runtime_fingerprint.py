"""Every run is tied to its environment: a submission keeps its runtime's fingerprint, a re-score says what changed."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy
import pytest
from django.urls import reverse

from grading import services
from grading.boards import services as board_services
from grading.models import AuditEntry, Submission
from grading.services import Grading
from sandbox import GpuDevice, SandboxConfig
from sandbox import fingerprints as sandbox_fingerprints
from sandbox.fingerprints import describe_change, gpu_model_of, probe_python
from tests.builders.events import open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_organizer, participant_of

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

BEFORE = {
    "backend": "bwrap",
    "runtime": "cpu",
    "python": "3.11.2",
    "lock_hash": "a" * 64,
    "packages": {"numpy": "1.26.4", "scikit-learn": "1.5.2"},
    "image": "",
    "image_id": "",
    "gpu_model": "",
    "gpu_driver": "",
}


def test_the_probe_reads_the_runtime_s_python_packages_and_lock_hash():
    probed = probe_python(Path(sys.executable))
    assert probed["python"] == platform.python_version()
    assert probed["packages"]["numpy"] == numpy.__version__
    assert len(probed["lock_hash"]) == 64


def test_installing_a_package_in_the_runtime_changes_its_lock_hash(tmp_path):
    runtime = tmp_path / "runtime"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(runtime)], check=True)
    python = runtime / "bin" / "python"
    before = probe_python(python)
    (site,) = runtime.glob("lib/python*/site-packages")
    info = site / "numpy-9.9.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 9.9.9\n")
    after = probe_python(python)  # the cache notices that site-packages changed
    assert before["packages"] == {} and after["packages"] == {"numpy": "9.9.9"}
    assert before["lock_hash"] != after["lock_hash"]
    assert describe_change({**BEFORE, **before}, {**BEFORE, **after}).endswith("numpy absent → 9.9.9")


def test_a_changed_runtime_is_described_in_words_and_an_unknown_one_is_no_change():
    after = {**BEFORE, "lock_hash": "b" * 64, "packages": {"numpy": "2.0.0", "scikit-learn": "1.5.2"}}
    assert describe_change(BEFORE, after) == "runtime lock aaaaaaaaaaaa → bbbbbbbbbbbb; numpy 1.26.4 → 2.0.0"
    assert describe_change(BEFORE, dict(BEFORE)) == ""
    assert describe_change({}, after) == "" and describe_change(BEFORE, None) == ""


@pytest.mark.parametrize(
    ("driver_file", "driver"),
    [
        ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n", "550.54.15"),
        # The open kernel module's wording, as an H200 node's /proc/driver/nvidia/version has it.
        ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build\n", "580.159.04"),
    ],
    ids=["proprietary-module", "open-module"],
)
def test_a_gpu_run_records_the_gpu_model_and_driver(tmp_path, monkeypatch, driver_file, driver):
    version = tmp_path / "version"
    version.write_text(driver_file)
    monkeypatch.setattr(sandbox_fingerprints, "NVIDIA_VERSION_FILE", version)
    monkeypatch.setattr(sandbox_fingerprints, "_driver", [])
    config = SandboxConfig(
        state_dir=tmp_path, runtime_python={"gpu": Path(sys.executable)}, gpus=(GpuDevice("1", "A100"),)
    )
    backend = mock.Mock()
    backend.name = "bwrap"
    recorded = sandbox_fingerprints.fingerprint(backend, runtime="gpu", config=config, gpu_device="1")
    assert (recorded.gpu_model, recorded.gpu_driver) == ("A100", driver)
    assert recorded.python == platform.python_version()
    unused = sandbox_fingerprints.fingerprint(backend, runtime="gpu", config=config, gpu_device=None)
    assert (unused.gpu_model, unused.gpu_driver) == ("", "")
    assert gpu_model_of("7", config.gpus) == "unknown GPU"


@pytest.mark.slow
def test_a_graded_submission_records_its_runtime_and_the_feedback_page_shows_it(bwrap, client):
    event_exercise = open_event_exercise()
    participant = participant_of(event_exercise)
    with mock.patch("grading.services.enqueue"):
        submission = services.submit_notebook(
            participant=participant, event_exercise=event_exercise, raw=notebook_bytes(CONSTANT_SCORES)
        )
        services.grade_submission(submission.pk)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SCORED, submission.message
    runtime = submission.runtime_fingerprint
    assert runtime["backend"] == "bwrap" and runtime["runtime"] == "cpu"
    assert runtime["python"] == platform.python_version() and runtime["packages"]["numpy"] == numpy.__version__
    client.force_login(participant)
    page = client.get(submission.get_absolute_url()).content.decode()
    assert "Runtime it ran on" in page and runtime["lock_hash"] in page and numpy.__version__ in page


def rescored_on(new_runtime: dict) -> AuditEntry:
    """Score a submission on BEFORE, re-score it, and end the new run on `new_runtime`; return the audit entry."""
    event_exercise = open_event_exercise()
    submission = Submission.objects.create(
        event_exercise=event_exercise,
        participant=participant_of(event_exercise),
        notebook="submissions/x.ipynb",
        status=Submission.Status.SCORED,
        score=0.9,
        private_score=0.8,
        runtime_fingerprint=BEFORE,
    )
    organizer = make_organizer(event_exercise.event)
    with mock.patch("grading.services.enqueue"):
        board_services.rescore_exercise(actor=organizer, event_exercise=event_exercise, reason="Fixed the labels")
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.RUNNING, attempts=1)
    services._finish(submission, 1, Grading(status=Submission.Status.SCORED, fingerprint=new_runtime))
    return AuditEntry.objects.get(submission=submission, action=AuditEntry.Action.RESCORE)


def test_a_rescore_on_a_changed_runtime_says_so_on_the_board_s_audit(client):
    changed = {**BEFORE, "lock_hash": "c" * 64, "packages": {"numpy": "2.0.0", "scikit-learn": "1.5.2"}}
    entry = rescored_on(changed)
    assert entry.old_fingerprint == BEFORE
    assert entry.runtime_change == (
        "Ran on a different runtime: runtime lock aaaaaaaaaaaa → cccccccccccc; numpy 1.26.4 → 2.0.0."
    )
    assert entry.submission.runtime_fingerprint == changed
    client.force_login(entry.actor)
    page = client.get(reverse("grading:organizer_boards", args=[entry.event_exercise.event.slug])).content.decode()
    assert "Ran on a different runtime" in page and "numpy 1.26.4 → 2.0.0" in page


def test_a_rescore_on_the_same_runtime_notes_no_change():
    assert rescored_on(dict(BEFORE)).runtime_change == ""


class FakeDocker:
    """Enough of docker-py's client for the image probe: one image, and containers that print the probe's answer."""

    def __init__(self) -> None:
        self.runs: list[dict] = []
        self.images = mock.Mock()
        self.images.get.return_value = mock.Mock(id="sha256:" + "d" * 64)
        self.containers = mock.Mock()
        self.containers.run.side_effect = self.run

    def run(self, image, command, **options):
        self.runs.append({"image": image, **options})
        return b'{"python": "3.11.2", "lock_hash": "' + b"e" * 64 + b'", "packages": {"numpy": "1.26.4"}, "paths": []}'


def test_a_docker_run_records_the_image_digest_and_probes_each_image_once_without_network(tmp_path):
    docker = FakeDocker()
    backend = mock.Mock(client=docker)
    backend.name = "docker"
    config = SandboxConfig(state_dir=tmp_path, docker_images={"cpu": "ml-infn/runtime-cpu:latest"})
    first = sandbox_fingerprints.fingerprint(backend, runtime="cpu", config=config, gpu_device=None)
    again = sandbox_fingerprints.fingerprint(backend, runtime="cpu", config=config, gpu_device=None)
    assert first == again
    assert first.image == "ml-infn/runtime-cpu:latest" and first.image_id == "sha256:" + "d" * 64
    assert first.python == "3.11.2" and first.packages == {"numpy": "1.26.4"} and first.lock_hash == "e" * 64
    assert len(docker.runs) == 1 and docker.runs[0]["network_mode"] == "none"


def test_a_runtime_that_cannot_be_probed_leaves_the_fingerprint_empty_but_never_fails_the_run(tmp_path):
    backend = mock.Mock()
    backend.name = "bwrap"
    config = SandboxConfig(state_dir=tmp_path, runtime_python={"cpu": tmp_path / "no-such-python"})
    recorded = sandbox_fingerprints.fingerprint(backend, runtime="cpu", config=config, gpu_device=None)
    assert (recorded.backend, recorded.python, recorded.lock_hash) == ("bwrap", "", "")
