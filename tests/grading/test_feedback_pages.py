"""Participants submit from the exercise page and read their results; nobody else's results are reachable."""

from __future__ import annotations

import io
import zipfile
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grading.models import Submission
from hackathon.models import Group, Registration
from tests.builders.events import open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_organizer, make_participant, make_tutor, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


@pytest.fixture
def setting():
    """An open exercise: a participant in a group with its tutor, another participant and tutor, an organizer."""
    event_exercise = open_event_exercise()
    event = event_exercise.event
    group = Group.objects.create(event=event, event_exercise=event_exercise, number=1)
    people = {
        "participant": make_participant(event),
        "other": make_participant(event),
        "tutor": make_tutor(event),
        "other_tutor": make_tutor(event),
        "organizer": make_organizer(event),
        "stranger": make_user(),
    }
    group.tutors.add(people["tutor"])
    Registration.objects.filter(event=event, user=people["participant"]).update(group=group)
    return event_exercise, people


def upload(client, event_exercise, raw: bytes, kind: str = "graded"):
    url = reverse("grading:submit", args=[event_exercise.event.slug, event_exercise.exercise.slug])
    with mock.patch("grading.services.enqueue"):
        return client.post(url, {"notebook": SimpleUploadedFile("mine.ipynb", raw), "kind": kind})


def test_a_participant_submits_from_the_exercise_page_and_lands_on_the_live_status(client, setting):
    event_exercise, people = setting
    client.force_login(people["participant"])
    page = client.get(reverse("grading:event_exercise", args=[event_exercise.event.slug, event_exercise.exercise.slug]))
    assert b"graded submissions left today" in page.content
    response = upload(client, event_exercise, notebook_bytes(CONSTANT_SCORES))
    submission = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == submission.get_absolute_url()
    detail = client.get(submission.get_absolute_url()).content.decode()
    assert "Position 1 in the CPU queue" in detail
    assert 'hx-trigger="every 2s"' in detail


def test_a_broken_upload_comes_back_with_the_reason_and_records_nothing(client, setting):
    event_exercise, people = setting
    client.force_login(people["participant"])
    response = upload(client, event_exercise, b"definitely not json")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "not a Jupyter notebook" in page
    assert Submission.objects.count() == 0


def scored_submission(event_exercise, participant) -> Submission:
    executed = {
        "cells": [
            {"cell_type": "code", "source": "x = 1", "outputs": [
                {"output_type": "display_data", "data": {"text/html": "<b>bold</b><script>alert('xss')</script>"}}
            ]},
            {"cell_type": "code", "source": "1/0", "outputs": [
                {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
                 "traceback": ["\x1b[31mZeroDivisionError\x1b[0m: division by zero"]}
            ]},
        ]
    }  # fmt: skip
    return Submission.objects.create(
        event_exercise=event_exercise, participant=participant, notebook="x.ipynb", status="failed",
        reason="exception", message="Cell 1 raised ZeroDivisionError.", failed_cell=1, executed_notebook=executed,
        private_score=0.91, score=0.9, log="the log",
    )  # fmt: skip


def test_the_executed_notebook_is_shown_sanitized_with_the_failing_cell_marked(client, setting):
    event_exercise, people = setting
    submission = scored_submission(event_exercise, people["participant"])
    client.force_login(people["participant"])
    page = client.get(submission.get_absolute_url()).content.decode()
    assert "<b>bold</b>" in page
    assert "<script>alert" not in page
    assert 'class="cell failed-cell code" id="cell-1"' in page
    assert "ZeroDivisionError: division by zero" in page and "\x1b[" not in page
    assert "0.91" not in page  # the private score stays hidden from the participant


@pytest.mark.parametrize(
    ("who", "status"),
    [("participant", 200), ("tutor", 200), ("organizer", 200), ("other", 404), ("other_tutor", 404), ("stranger", 404)],
)
def test_a_submission_is_seen_by_its_author_their_group_s_tutor_and_the_organizers_only(client, setting, who, status):
    event_exercise, people = setting
    submission = scored_submission(event_exercise, people["participant"])
    client.force_login(people[who])
    assert client.get(submission.get_absolute_url()).status_code == status
    assert client.get(reverse("grading:submission_status", args=[submission.uid])).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client, setting):
    event_exercise, people = setting
    submission = scored_submission(event_exercise, people["participant"])
    response = client.get(submission.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_organizer_sees_the_private_score(client, setting):
    event_exercise, people = setting
    submission = scored_submission(event_exercise, people["participant"])
    client.force_login(people["organizer"])
    assert "private score: 0.91" in client.get(submission.get_absolute_url()).content.decode()


def test_a_picture_is_served_only_when_listed_and_only_to_those_who_may_see_it(client, setting, settings):
    event_exercise, people = setting
    submission = scored_submission(event_exercise, people["participant"])
    folder = settings.MEDIA_ROOT / "results" / str(submission.uid)
    folder.mkdir(parents=True)
    (folder / "roc.png").write_bytes(b"\x89PNG fake")
    (folder / "secret.png").write_bytes(b"\x89PNG not listed")
    Submission.objects.filter(pk=submission.pk).update(figures={"images": [{"file": "roc.png", "title": "ROC"}]})
    client.force_login(people["participant"])
    assert client.get(reverse("grading:submission_figure", args=[submission.uid, "roc.png"])).status_code == 200
    assert client.get(reverse("grading:submission_figure", args=[submission.uid, "secret.png"])).status_code == 404
    assert client.get(reverse("grading:submission_figure", args=[submission.uid, "..%2Froc.png"])).status_code == 404
    client.force_login(people["other"])
    assert client.get(reverse("grading:submission_figure", args=[submission.uid, "roc.png"])).status_code == 404


def test_the_download_holds_the_student_notebook_and_public_data_but_no_answers(client, setting):
    event_exercise, people = setting
    client.force_login(people["participant"])
    response = client.get(
        reverse("grading:download_exercise", args=[event_exercise.event.slug, event_exercise.exercise.slug])
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert any(name.endswith(".ipynb") for name in names)
    assert any(name.endswith("data/train.csv") for name in names)
    assert not any("answers" in name for name in names)
    notebook = next(n for n in names if n.endswith(".ipynb"))
    text = zipfile.ZipFile(io.BytesIO(response.content)).read(notebook).decode()
    assert "### BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text


def test_a_stranger_cannot_download_or_open_the_exercise_page(client, setting):
    event_exercise, people = setting
    client.force_login(people["stranger"])
    args = [event_exercise.event.slug, event_exercise.exercise.slug]
    assert client.get(reverse("grading:download_exercise", args=args)).status_code == 404
    assert client.get(reverse("grading:event_exercise", args=args)).status_code == 404
