"""The demo leaves one exercise of the base event open now, so that a newcomer submits within a minute."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from grading.models import Submission
from hackathon import demo
from hackathon.models import Event, Registration
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes

pytestmark = pytest.mark.django_db


def test_a_demo_participant_signs_in_and_submits_to_the_exercise_open_now(client):
    out = StringIO()
    call_command("load_demo", stdout=out)
    output = out.getvalue()
    base = Event.objects.get(slug="base-online")
    if not base.event_exercises.exists():
        pytest.skip("the built-in exercises could not be loaded, so the demo opened none")
    open_now = [ee for ee in base.event_exercises.select_related("exercise") if ee.is_open()]
    assert len(open_now) == 1, "exactly one exercise of the base event takes submissions at once"
    event_exercise = open_now[0]
    assert base.starts_on > timezone.localdate(), "the event itself still starts tomorrow"
    email = demo.PARTICIPANTS[0]
    assert f"sign in as {email}" in output
    registration = Registration.objects.get(event=base, user__email=email)
    assert registration.status == Registration.Status.CONFIRMED and registration.group is not None

    password = re.search(re.escape(email) + r"\s+(\S+)", output).group(1)
    client.post(reverse("account_login"), {"login": email, "password": password})
    page = client.get(
        reverse("grading:event_exercise", args=[base.slug, event_exercise.exercise.slug])
    ).content.decode()
    assert "Submit for grading" in page
    notebook = SimpleUploadedFile("mine.ipynb", notebook_bytes(CONSTANT_SCORES))
    response = client.post(
        reverse("grading:submit", args=[base.slug, event_exercise.exercise.slug]),
        {"notebook": notebook, "kind": "check"},
    )
    assert response.status_code == 302
    assert Submission.objects.filter(event_exercise=event_exercise, participant=registration.user).count() == 1


def test_the_readme_names_the_account_to_try_first():
    from tests.foundation.test_readme import ROOT

    head = (ROOT / "README.md").read_text().split("```", 1)[0]
    assert demo.PARTICIPANTS[0] in head and "open now" in head
