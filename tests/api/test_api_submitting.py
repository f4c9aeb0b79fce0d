"""Sending a notebook through the API: recorded and queued, or refused with the right status and a clear message."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client

from grading.models import Submission
from tests.api.conftest import client_of
from tests.builders.casts import make_cast
from tests.builders.events import make_event, open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_participant
from tests.builders.submissions import scored_submission

pytestmark = pytest.mark.django_db


def upload(raw: bytes | None = None, name: str = "solution.ipynb") -> io.BytesIO:
    handle = io.BytesIO(notebook_bytes(CONSTANT_SCORES) if raw is None else raw)
    handle.name = name
    return handle


def post(client, **fields):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/submissions/", fields, format="multipart")


def test_a_notebook_is_recorded_queued_and_answered_201_with_where_to_follow_it(no_queue):
    cast = make_cast()
    response = post(client_of(cast.alice), exercise=cast.event_exercise.exercise.slug, notebook=upload())
    assert response.status_code == 201
    body = response.json()
    submission = Submission.objects.get(uid=body["uid"])
    assert submission.participant == cast.alice and submission.kind == "graded"
    assert submission.original_name == "solution.ipynb"
    assert body["status"] == "queued" and body["is_final"] is False and body["queue_position"] == 1
    assert response["Location"].endswith(f"/api/v1/submissions/{submission.uid}/")


def test_a_check_run_is_recorded_as_a_check_and_uses_no_quota(no_queue):
    cast = make_cast()
    client = client_of(cast.alice)
    response = post(
        client, exercise=cast.event_exercise.exercise.slug, event=cast.event.slug, kind="check", notebook=upload()
    )
    assert response.status_code == 201 and response.json()["kind"] == "check"
    listed = client.get(f"/api/v1/events/{cast.event.slug}/exercises/{cast.event_exercise.exercise.slug}/").json()
    assert listed["remaining_today"] == listed["per_day"]


def test_missing_fields_are_named_in_a_400():
    cast = make_cast()
    response = post(client_of(cast.alice))
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"exercise", "notebook"}
    assert "correct the fields" in body["detail"]


def test_wrong_types_are_named_in_a_400():
    cast = make_cast()
    response = post(client_of(cast.alice), exercise="not a slug!", kind="graded-please", notebook="plain text")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"exercise", "kind", "notebook"}


def test_malformed_json_is_a_400_in_json():
    cast = make_cast()
    response = client_of(cast.alice).post(
        "/api/v1/submissions/", data=b'{"exercise": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_file_that_is_not_a_notebook_is_a_400_saying_what_to_upload(no_queue):
    cast = make_cast()
    response = post(client_of(cast.alice), exercise=cast.event_exercise.exercise.slug, notebook=upload(b"print(1)"))
    assert response.status_code == 400
    assert response.json() == {"detail": "The file is not a Jupyter notebook (it is not JSON). Upload the .ipynb file."}
    assert not Submission.objects.exists()


def test_an_upload_over_the_limit_is_413_and_nothing_is_recorded(settings, no_queue):
    settings.SUBMISSION_MAX_BYTES = 2048
    cast = make_cast()
    raw = notebook_bytes(CONSTANT_SCORES + "\n# padding\n" * 400)
    assert len(raw) > 2048
    response = post(client_of(cast.alice), exercise=cast.event_exercise.exercise.slug, notebook=upload(raw))
    assert response.status_code == 413
    assert "over the limit of 2.0 kB" in response.json()["detail"]
    assert "Clear the notebook's outputs" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_a_huge_body_is_refused_413_from_its_declared_length_before_it_is_read(settings):
    settings.SUBMISSION_MAX_BYTES = 1024 * 1024
    cast = make_cast()
    raw = b"x" * (2 * 1024 * 1024)
    response = post(client_of(cast.alice), exercise=cast.event_exercise.exercise.slug, notebook=upload(raw))
    assert response.status_code == 413
    assert "2.1 MB" in response.json()["detail"]


def test_over_the_daily_quota_is_429_with_the_seconds_until_midnight(no_queue):
    cast = make_cast()
    cast.event_exercise.submissions_per_day = 1
    cast.event_exercise.save()
    scored_submission(cast.event_exercise, cast.alice)
    response = post(client_of(cast.alice), exercise=cast.event_exercise.exercise.slug, notebook=upload())
    assert response.status_code == 429
    assert "used all 1 submissions" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= 24 * 3600


def test_a_closed_exercise_is_a_400_saying_when_it_closed(no_queue):
    import datetime as dt

    from django.utils import timezone

    cast = make_cast()
    cast.event_exercise.closes_at = timezone.now() - dt.timedelta(minutes=1)
    cast.event_exercise.opens_at = timezone.now() - dt.timedelta(days=1)
    cast.event_exercise.save()
    response = post(client_of(cast.alice), exercise=cast.event_exercise.exercise.slug, notebook=upload())
    assert response.status_code == 400
    assert "closed on " in response.json()["detail"]


@pytest.mark.parametrize("who", ["tutor", "organizer"])
def test_who_is_not_a_participant_is_refused_403(who, no_queue):
    cast = make_cast()
    response = post(
        client_of(getattr(cast, who)),
        exercise=cast.event_exercise.exercise.slug,
        event=cast.event.slug,
        notebook=upload(),
    )
    assert response.status_code == 403
    assert "confirmed participants" in response.json()["detail"]


def test_an_exercise_of_no_event_of_mine_is_a_400_on_the_exercise_field():
    cast = make_cast()
    response = post(client_of(cast.outsider), exercise=cast.event_exercise.exercise.slug, notebook=upload())
    assert response.status_code == 400
    assert "no event with the exercise" in response.json()["errors"]["exercise"][0]


def test_an_unseen_event_is_404_even_in_the_upload_form():
    cast = make_cast()
    response = post(client_of(cast.alice), exercise="anything", event="no-such-event", notebook=upload())
    assert response.status_code == 404


def test_two_open_events_with_the_exercise_need_the_event_named(no_queue):
    first = open_event_exercise()
    second = open_event_exercise(exercise=first.exercise)
    person = make_participant(first.event)
    make_participant(second.event, user=person)
    client = client_of(person)
    response = post(client, exercise=first.exercise.slug, notebook=upload())
    assert response.status_code == 400
    assert first.event.slug in response.json()["errors"]["event"][0]
    named = post(client, exercise=first.exercise.slug, event=second.event.slug, notebook=upload())
    assert named.status_code == 201 and named.json()["event"] == second.event.slug


def test_a_session_write_without_the_csrf_token_is_refused_and_with_it_accepted(no_queue):
    from tests.builders.people import PASSWORD

    cast = make_cast()
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=cast.alice.username, password=PASSWORD)
    fields = {"exercise": cast.event_exercise.exercise.slug, "notebook": upload()}
    refused = browser.post("/api/v1/submissions/", fields)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert browser.get("/api/v1/submissions/").status_code == 200  # reads need no token
    browser.get(f"/events/{cast.event.slug}/")  # any page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post("/api/v1/submissions/", {**fields, "notebook": upload()}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_the_download_is_the_released_notebook_and_public_data_as_a_zip():
    event_exercise = open_event_exercise()
    person = make_participant(event_exercise.event)
    url = f"/api/v1/events/{event_exercise.event.slug}/exercises/{event_exercise.exercise.slug}/download/"
    response = client_of(person).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert any(n.endswith(".ipynb") for n in names)
    assert not any("hidden" in n or "answers" in n for n in names)
    assert client_of(make_participant(make_event())).get(url).status_code == 403
