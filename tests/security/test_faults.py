"""Faults around grading: a full media volume, a broker restarted with work queued, a database connection dropped
mid-task. Afterwards every submission has exactly one final state and none is lost."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from grading.models import Submission
from tests.factories import make_participant
from tests.grading.builders import CONSTANT_SCORES, notebook_bytes, open_event_exercise


@contextlib.contextmanager
def full_volume(path: Path, size: str = "64k") -> Iterator[Path]:
    """Mount a tiny tmpfs at path and fill it, or skip saying why it cannot be mounted here."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.decode().strip()}")
    try:
        with contextlib.suppress(OSError), (path / "filler").open("wb") as filler:
            while True:
                filler.write(b"x" * 4096)
                filler.flush()
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.django_db
def test_a_full_media_volume_refuses_the_upload_with_a_message_and_records_nothing(settings, tmp_path: Path) -> None:
    event_exercise = open_event_exercise()
    person = make_participant(event_exercise.event)
    client = Client()
    client.force_login(person)
    url = reverse("submit", kwargs={"slug": event_exercise.event.slug, "exercise_slug": event_exercise.exercise.slug})
    with full_volume(tmp_path / "media") as media:
        settings.MEDIA_ROOT = media
        with mock.patch("grading.services.enqueue"):
            response = client.post(
                url,
                {"notebook": SimpleUploadedFile("mine.ipynb", notebook_bytes(CONSTANT_SCORES)), "kind": "graded"},
                follow=True,
            )
    assert response.status_code == 200
    assert Submission.objects.count() == 0
    text = response.content.decode()
    print(text[text.find("message-") :][:400])
    assert "could not store your notebook" in text


@pytest.mark.django_db
def test_a_full_media_volume_refuses_an_api_upload_with_a_sentence(settings, tmp_path: Path) -> None:
    from tests.api.conftest import client_of

    event_exercise = open_event_exercise()
    person = make_participant(event_exercise.event)
    body = {
        "exercise": event_exercise.exercise.slug,
        "event": event_exercise.event.slug,
        "notebook": SimpleUploadedFile("mine.ipynb", notebook_bytes(CONSTANT_SCORES)),
    }
    with full_volume(tmp_path / "media") as media:
        settings.MEDIA_ROOT = media
        with mock.patch("grading.services.enqueue"):
            response = client_of(person).post("/api/v1/submissions/", body, format="multipart")
    assert response.status_code == 400
    assert "could not store your notebook" in response.json()["detail"]
    assert Submission.objects.count() == 0
